#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>

#include "backends/testing.h"
#include "data/augment.h"
#include "data/batches.h"
#include "data/fashion_mnist.h"
#include "ir/error.h"

namespace stratum {
namespace {

using testing::error_of;

std::string temp_dir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir ? dir : "/tmp";
}

std::vector<uint8_t> idx_header(uint32_t magic, std::vector<uint32_t> dims) {
  std::vector<uint8_t> bytes;
  auto put = [&](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(v >> shift));
  };
  put(magic);
  for (uint32_t d : dims) put(d);
  return bytes;
}

void write_gz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(file);
}

// A dataset of `count` 4×3 images (pixel = image index + position) and labels i % 10, as the "train" split.
void write_dataset(const std::string& dir, uint32_t count) {
  std::filesystem::create_directories(dir);
  std::vector<uint8_t> images = idx_header(0x803, {count, 4, 3}), labels = idx_header(0x801, {count});
  for (uint32_t i = 0; i < count; ++i) {
    for (int p = 0; p < 12; ++p) images.push_back(static_cast<uint8_t>(i * 12 + p));
    labels.push_back(static_cast<uint8_t>(i % 10));
  }
  write_gz(dir + "/train-images-idx3-ubyte.gz", images);
  write_gz(dir + "/train-labels-idx1-ubyte.gz", labels);
}

TEST(FashionMnist, ReadsAWellFormedDataset) {
  const std::string dir = temp_dir() + "/good";
  write_dataset(dir, 7);
  const Dataset data = load_fashion_mnist(dir, true);
  EXPECT_EQ(data.count, 7);
  EXPECT_EQ(data.rows, 4);
  EXPECT_EQ(data.cols, 3);
  EXPECT_EQ(data.images[12 * 5 + 2], 62);
  EXPECT_EQ(data.labels[6], 6);
}

TEST(FashionMnist, BadFilesAreClearErrors) {
  const std::string dir = temp_dir() + "/bad";
  write_dataset(dir, 5);
  const std::string images = dir + "/train-images-idx3-ubyte.gz";
  EXPECT_NE(error_of([&] {
              load_fashion_mnist(dir, false);
            }).find("t10k-images-idx3-ubyte.gz is missing: install Debian's dataset-fashion-mnist"),
            std::string::npos);

  std::vector<uint8_t> truncated = idx_header(0x803, {5, 4, 3});
  truncated.resize(truncated.size() + 4 * 12);
  write_gz(images, truncated);
  EXPECT_NE(error_of([&] {
              load_fashion_mnist(dir, true);
            }).find("is truncated: its header announces 60 bytes of data, it has 48"),
            std::string::npos);

  std::vector<uint8_t> wrong_magic = idx_header(0x801, {5, 4, 3});
  wrong_magic.resize(wrong_magic.size() + 60);
  write_gz(images, wrong_magic);
  EXPECT_NE(error_of([&] {
              load_fashion_mnist(dir, true);
            }).find("is not an idx image file: magic number 0x00000801, expected 0x00000803"),
            std::string::npos);

  write_dataset(dir, 5);
  std::string bytes;
  {
    std::ifstream in(images, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (size_t i = 12; i + 8 < bytes.size(); ++i)
    bytes[i] = static_cast<char>(~bytes[i]);  // the deflate stream
  std::ofstream(images, std::ios::binary) << bytes;
  const std::string corrupt = error_of([&] { load_fashion_mnist(dir, true); });
  EXPECT_NE(corrupt.find(images), std::string::npos) << corrupt;
  EXPECT_TRUE(corrupt.find("corrupt") != std::string::npos ||
              corrupt.find("truncated") != std::string::npos || corrupt.find("magic") != std::string::npos)
      << corrupt;

  write_dataset(dir, 5);
  std::vector<uint8_t> labels = idx_header(0x801, {4});
  labels.resize(labels.size() + 4);
  write_gz(dir + "/train-labels-idx1-ubyte.gz", labels);
  EXPECT_NE(error_of([&] { load_fashion_mnist(dir, true); }).find("has 5 images but"), std::string::npos);
}

// Dims of 0, or whose product overflows or announces far more than the file holds, never reach an allocation.
TEST(FashionMnist, HeaderDimsAreCheckedBeforeReading) {
  const std::string path = temp_dir() + "/dims-images-idx3-ubyte.gz";
  auto error_for = [&](std::vector<uint32_t> dims) {
    write_gz(path, idx_header(0x803, dims));
    std::vector<int64_t> read;
    return error_of([&] { read_idx(path, true, &read); });
  };
  EXPECT_NE(error_for({5, 0, 3}).find("is corrupt: dimension 1 of its header is 0"), std::string::npos);
  EXPECT_NE(error_for({65536, 65536, 65536}).find("announces 281474976710656 bytes of data, it has 0"),
            std::string::npos);
  EXPECT_NE(
      error_for({0xffffffff, 0xffffffff, 0xffffffff}).find("the data its header announces is too large"),
      std::string::npos);
}

TEST(FashionMnist, TruncatedGzipStreamIsAnError) {
  const std::string dir = temp_dir() + "/cut";
  write_dataset(dir, 50);
  const std::string images = dir + "/train-images-idx3-ubyte.gz";
  std::filesystem::resize_file(images, std::filesystem::file_size(images) / 2);
  EXPECT_NE(error_of([&] { load_fashion_mnist(dir, true); }).find(images), std::string::npos);
}

TEST(Resize, BilinearMatchesPyTorchRoundedTo8Bits) {
  const uint8_t image[] = {0, 255, 255, 0};
  float out[16];
  resize_bilinear(image, 2, 2, 4, out);
  const int expected[16] = {0, 64, 191, 255, 64, 96, 159, 191, 191, 159, 96, 64, 255, 191, 64, 0};
  for (int i = 0; i < 16; ++i) EXPECT_FLOAT_EQ(out[i], expected[i] / 255.0f) << i;
  const uint8_t same[] = {10, 20, 30, 40, 50, 60};
  float copy[4];
  resize_bilinear(same, 2, 3, 2, copy);  // downscaling samples between pixels: 10 + 0.25·(20-10), half up
  EXPECT_FLOAT_EQ(copy[0], 13 / 255.0f);
  float unchanged[4];
  resize_bilinear(image, 2, 2, 2, unchanged);  // the same size: each pixel itself
  for (int i = 0; i < 4; ++i) EXPECT_EQ(unchanged[i], image[i] / 255.0f) << i;
}

TEST(BatchLoader, EpochsAreSeededPermutations) {
  const std::string dir = temp_dir() + "/batches";
  write_dataset(dir, 10);
  const Dataset data = load_fashion_mnist(dir, true);
  BatchLoader loader(data, 4, 4, true, 42, 0, /*keep_partial=*/true);
  EXPECT_EQ(loader.batches_per_epoch(), 3);
  std::vector<std::vector<int32_t>> epochs;
  for (int epoch = 0; epoch < 2; ++epoch) {
    loader.start_epoch(epoch);
    std::vector<int32_t> labels;
    Batch batch;
    while (loader.next(&batch)) {
      EXPECT_EQ(batch.images.shape()[2], 4);
      for (int64_t i = 0; i < batch.labels.size(); ++i) labels.push_back(batch.labels.i32()[i]);
    }
    EXPECT_EQ(std::multiset<int32_t>(labels.begin(), labels.end()).size(), 10u);
    EXPECT_EQ(std::set<int32_t>(labels.begin(), labels.end()).size(), 10u);
    epochs.push_back(labels);
  }
  EXPECT_NE(epochs[0], epochs[1]);
  BatchLoader again(data, 4, 4, true, 42, 0, true);
  again.start_epoch(0);
  Batch first;
  ASSERT_TRUE(again.next(&first));
  EXPECT_EQ(std::vector<int32_t>(first.labels.i32(), first.labels.i32() + 4),
            std::vector<int32_t>(epochs[0].begin(), epochs[0].begin() + 4));
  BatchLoader dropping(data, 4, 4, false, 0, 0, /*keep_partial=*/false);
  EXPECT_EQ(dropping.batches_per_epoch(), 2);
  EXPECT_EQ(dropping.examples_per_epoch(), 8);

  again.start_epoch(0, /*first=*/2);  // a resumed epoch; the batches not taken before are dropped
  Batch last;
  ASSERT_TRUE(again.next(&last));
  EXPECT_EQ(std::vector<int32_t>(last.labels.i32(), last.labels.i32() + 2),
            std::vector<int32_t>(epochs[0].begin() + 8, epochs[0].end()));
  EXPECT_FALSE(again.next(&last));
}

// A size × size image of distinct nonzero pixels.
std::vector<float> numbered(int64_t size) {
  std::vector<float> image(size * size);
  std::iota(image.begin(), image.end(), 1.0f);
  return image;
}

// `image` moved by (dy, dx), mirrored first when `flip`, zero where it moved in from outside.
std::vector<float> moved(const std::vector<float>& image, int64_t size, int64_t dy, int64_t dx, bool flip) {
  std::vector<float> out(image.size(), 0.0f);
  for (int64_t y = 0; y < size; ++y) {
    for (int64_t x = 0; x < size; ++x) {
      const int64_t sy = y + dy, sx = (flip ? size - 1 - x : x) + dx;
      if (sy >= 0 && sy < size && sx >= 0 && sx < size) out[y * size + x] = image[sy * size + sx];
    }
  }
  return out;
}

std::vector<float> augmented(const Augment& augment, uint64_t seed, int64_t example, int64_t size) {
  std::vector<float> image = numbered(size);
  augment_image(augment, seed, 1, example, size, image.data());
  return image;
}

TEST(Augment, OffLeavesTheImage) { EXPECT_EQ(augmented({}, 3, 5, 6), numbered(6)); }

// Each crop is the image moved by at most the padding, with zeros where the padding shows.
TEST(Augment, ACropStaysWithinThePaddedImage) {
  const int64_t size = 6, pad = 2;
  std::set<std::pair<int64_t, int64_t>> shifts;
  for (int64_t example = 0; example < 40; ++example) {
    const std::vector<float> crop = augmented({pad, false}, 3, example, size);
    int matches = 0;
    for (int64_t dy = -pad; dy <= pad; ++dy) {
      for (int64_t dx = -pad; dx <= pad; ++dx) {
        if (crop != moved(numbered(size), size, dy, dx, false)) continue;
        shifts.insert({dy, dx});
        ++matches;
      }
    }
    EXPECT_EQ(matches, 1) << example;
  }
  EXPECT_GT(shifts.size(), 10u);
}

TEST(Augment, AFlipIsAMirror) {
  int flipped = 0;
  for (int64_t example = 0; example < 40; ++example) {
    const std::vector<float> out = augmented({0, true}, 3, example, 5);
    const bool mirror = out == moved(numbered(5), 5, 0, 0, true);
    EXPECT_TRUE(mirror || out == numbered(5)) << example;
    flipped += mirror;
  }
  EXPECT_GT(flipped, 10);
  EXPECT_LT(flipped, 30);
}

std::vector<std::vector<float>> epoch_images(const Dataset& data, uint64_t seed, int64_t first) {
  BatchLoader loader(data, 4, 6, true, seed, 0, true, {1, true});
  loader.start_epoch(1, first);
  std::vector<std::vector<float>> images;
  for (Batch batch; loader.next(&batch);)
    images.emplace_back(batch.images.f32(), batch.images.f32() + batch.images.size());
  return images;
}

// The loader's augmentation depends on the seed, and on nothing else: not timing, not a resumed start.
TEST(BatchLoader, AugmentationIsSeeded) {
  const std::string dir = temp_dir() + "/augment";
  write_dataset(dir, 10);
  const Dataset data = load_fashion_mnist(dir, true);
  const auto images = epoch_images(data, 42, 0);
  EXPECT_EQ(epoch_images(data, 42, 0), images);
  EXPECT_EQ(epoch_images(data, 42, 1), std::vector(images.begin() + 1, images.end()));
  EXPECT_NE(epoch_images(data, 43, 0), images);
}

TEST(FashionMnist, ASliceIsItsExamples) {
  const std::string dir = temp_dir() + "/slice";
  write_dataset(dir, 10);
  const Dataset data = load_fashion_mnist(dir, true);
  const Dataset part = slice(data, 6, 9);
  EXPECT_EQ(part.count, 3);
  EXPECT_EQ(part.labels, std::vector<uint8_t>(data.labels.begin() + 6, data.labels.begin() + 9));
  EXPECT_EQ(part.images, std::vector<uint8_t>(data.images.begin() + 6 * 12, data.images.begin() + 9 * 12));
  EXPECT_THROW(slice(data, 6, 11), Error);
}

// Misuse and failures are errors on the caller's thread, never a hang or std::terminate.
TEST(BatchLoader, FailuresReachTheCaller) {
  const std::string dir = temp_dir() + "/failures";
  write_dataset(dir, 10);
  const Dataset data = load_fashion_mnist(dir, true);
  BatchLoader loader(data, 2, 4, false, 0, 0, true);
  Batch batch;
  EXPECT_THROW(loader.next(&batch), Error);
  EXPECT_THROW(loader.start_epoch(0, 6), Error);
  BatchLoader huge(data, 2, int64_t{1} << 30, false, 0, 0, true);  // 2^61 pixels: no tensor holds them
  huge.start_epoch(0);
  EXPECT_ANY_THROW(huge.next(&batch));
}

}  // namespace
}  // namespace stratum
