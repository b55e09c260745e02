// Fashion-MNIST from its original idx files (gzip), as Debian's dataset-fashion-mnist installs them, and
// the book's preprocessing: scale to [0,1], no normalisation, bilinear resize.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace stratum {

constexpr char kFashionMnistDir[] = "/usr/share/datasets/fashion-mnist";

struct Dataset {
  int64_t count = 0, rows = 0, cols = 0;
  std::vector<uint8_t> images;  // count × rows × cols
  std::vector<uint8_t> labels;  // count, each in [0,10)
};

// The training (60,000) or test (10,000) split from `dir`. Throws Error naming the file when it is missing
// (and the Debian package that has it), truncated, corrupt, or not an idx file of the expected kind, and
// when the images and labels disagree.
Dataset load_fashion_mnist(const std::string& dir, bool train);

// Examples [begin, end) of `data` as a dataset of their own (0 <= begin <= end <= data.count).
Dataset slice(const Dataset& data, int64_t begin, int64_t end);

// Reads one idx file: checks its magic number (0x00000803 images, 0x00000801 labels) and that it holds
// exactly the bytes its header announces. `dims` gets the header's dimensions.
std::vector<uint8_t> read_idx(const std::string& path, bool images, std::vector<int64_t>* dims);

// The same from any stream: `read(into, n)` stores up to n bytes and returns how many, fewer only at its end.
// `path` names the stream in errors.
using IdxReadFn = std::function<size_t(uint8_t* into, size_t n)>;
std::vector<uint8_t> parse_idx(const IdxReadFn& read, const std::string& path, bool images,
                               std::vector<int64_t>* dims);

// Resizes one rows × cols image bilinearly to size × size (pixel centres at half-integers, edges clamped,
// as PyTorch's interpolate(align_corners=False)), rounds to 8 bits (half up) as the book's PIL Resize does,
// and scales to [0,1].
void resize_bilinear(const uint8_t* image, int64_t rows, int64_t cols, int64_t size, float* out);

}  // namespace stratum
