#include "data/fashion_mnist.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <vector>

#include "ir/error.h"
#include "ir/types.h"

namespace stratum {

namespace {

constexpr uint32_t kImageMagic = 0x00000803, kLabelMagic = 0x00000801;

uint32_t big_endian(const uint8_t* bytes) {
  return uint32_t(bytes[0]) << 24 | uint32_t(bytes[1]) << 16 | uint32_t(bytes[2]) << 8 | bytes[3];
}

// Reads up to `bytes`, growing the buffer as data arrives: a header may announce far more than there is.
std::vector<uint8_t> read_bytes(const IdxReadFn& read, size_t bytes) {
  std::vector<uint8_t> data;
  while (data.size() < bytes) {
    const size_t got = data.size(), want = std::min<size_t>(bytes - got, 1 << 20);
    data.resize(got + want);
    const size_t n = read(data.data() + got, want);
    data.resize(got + n);
    if (n < want) break;
  }
  return data;
}

}  // namespace

std::vector<uint8_t> parse_idx(const IdxReadFn& read, const std::string& path, bool images,
                               std::vector<int64_t>* dims) {
  const int rank = images ? 3 : 1;
  const std::vector<uint8_t> header = read_bytes(read, 4 + 4 * rank);
  if (header.size() < 4u + 4 * rank) fail("{} is truncated: its header is incomplete", path);
  const uint32_t magic = big_endian(header.data()), expected = images ? kImageMagic : kLabelMagic;
  if (magic != expected) {
    fail("{} is not an idx {} file: magic number {:#010x}, expected {:#010x}", path,
         images ? "image" : "label", magic, expected);
  }
  dims->clear();
  int64_t bytes = 1;
  for (int i = 0; i < rank; ++i) {
    dims->push_back(big_endian(header.data() + 4 + 4 * i));
    if (dims->back() == 0) fail("{} is corrupt: dimension {} of its header is 0", path, i);
    bytes = checked_mul(bytes, dims->back(), fmt::format("{}: the data its header announces", path));
  }
  const size_t size = static_cast<size_t>(bytes);
  std::vector<uint8_t> data = read_bytes(read, size + 1);  // one more: there must be none
  if (data.size() < size)
    fail("{} is truncated: its header announces {} bytes of data, it has {}", path, size, data.size());
  if (data.size() > size) fail("{} has more data than its header announces ({} bytes)", path, size);
  return data;
}

std::vector<uint8_t> read_idx(const std::string& path, bool images, std::vector<int64_t>* dims) {
  if (!std::filesystem::exists(path)) {
    fail("{} is missing: install Debian's dataset-fashion-mnist (tools/setup.sh does) or give --data-dir",
         path);
  }
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) fail("cannot open {}", path);
  struct Closer {
    gzFile f;
    ~Closer() { gzclose(f); }
  } closer{file};
  const auto read = [&](uint8_t* into, size_t n) {  // n is at most 1 MiB: within gzread's unsigned
    const int got = gzread(file, into, static_cast<unsigned>(n));
    if (got < 0) {
      int code = 0;
      fail("{} is corrupt: {}", path, gzerror(file, &code));
    }
    return static_cast<size_t>(got);
  };
  return parse_idx(read, path, images, dims);
}

Dataset load_fashion_mnist(const std::string& dir, bool train) {
  const std::string prefix = dir + (train ? "/train" : "/t10k");
  const std::string image_path = prefix + "-images-idx3-ubyte.gz",
                    label_path = prefix + "-labels-idx1-ubyte.gz";
  Dataset data;
  std::vector<int64_t> image_dims, label_dims;
  data.images = read_idx(image_path, true, &image_dims);
  data.labels = read_idx(label_path, false, &label_dims);
  if (image_dims[0] != label_dims[0]) {
    fail("{} has {} images but {} has {} labels", image_path, image_dims[0], label_path, label_dims[0]);
  }
  for (size_t i = 0; i < data.labels.size(); ++i) {
    if (data.labels[i] >= 10)
      fail("{}: label {} of item {} is not a class in [0,10)", label_path, data.labels[i], i);
  }
  data.count = image_dims[0];
  data.rows = image_dims[1];
  data.cols = image_dims[2];
  return data;
}

Dataset slice(const Dataset& data, int64_t begin, int64_t end) {
  if (begin < 0 || begin > end || end > data.count)
    fail("examples [{}, {}) are not within a dataset of {}", begin, end, data.count);
  const int64_t pixels = data.rows * data.cols;
  Dataset part{end - begin, data.rows, data.cols, {}, {}};
  part.images.assign(data.images.begin() + begin * pixels, data.images.begin() + end * pixels);
  part.labels.assign(data.labels.begin() + begin, data.labels.begin() + end);
  return part;
}

void resize_bilinear(const uint8_t* image, int64_t rows, int64_t cols, int64_t size, float* out) {
  if (rows == size && cols == size) {  // every output pixel sits on its source pixel
    for (int64_t i = 0; i < size * size; ++i) out[i] = float(image[i]) / 255.0f;
    return;
  }
  // Source coordinate of output pixel i along an axis of n pixels: (i + 0.5)·n/size - 0.5, clamped at 0.
  struct Source {
    int64_t lo, hi;
    float frac;
  };
  auto source = [size](int64_t i, int64_t n) {
    const double x = std::max(0.0, (i + 0.5) * double(n) / double(size) - 0.5);
    const int64_t lo = std::min<int64_t>(static_cast<int64_t>(x), n - 1);
    return Source{lo, std::min<int64_t>(lo + 1, n - 1), static_cast<float>(x - lo)};
  };
  std::vector<Source> columns(size);
  for (int64_t x = 0; x < size; ++x) columns[x] = source(x, cols);
  auto at = [&](int64_t r, int64_t c) { return float(image[r * cols + c]); };
  for (int64_t y = 0; y < size; ++y) {
    const Source row = source(y, rows);
    for (int64_t x = 0; x < size; ++x) {
      const Source& col = columns[x];
      const float top = at(row.lo, col.lo) + (at(row.lo, col.hi) - at(row.lo, col.lo)) * col.frac;
      const float bottom = at(row.hi, col.lo) + (at(row.hi, col.hi) - at(row.hi, col.lo)) * col.frac;
      out[y * size + x] = std::floor(top + (bottom - top) * row.frac + 0.5f) / 255.0f;
    }
  }
}

}  // namespace stratum
