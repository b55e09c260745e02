// The idx reader: the first byte says images or labels, the rest is the (uncompressed) stream, read in pieces
// of the sizes the reader asks for.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "data/fashion_mnist.h"
#include "ir/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool images = data[0] & 1;
  size_t pos = 1;
  const auto read = [&](uint8_t* into, size_t n) {
    n = std::min(n, size - pos);
    std::memcpy(into, data + pos, n);
    pos += n;
    return n;
  };
  std::vector<int64_t> dims;
  try {
    stratum::parse_idx(read, "fuzz.idx", images, &dims);
  } catch (const stratum::Error&) {
  }
  return 0;
}
