// The checkpoint reader on the input with its CRC-32 appended, so that the fuzzer explores the records
// rather than the checksum.
#include <zlib.h>

#include <cstdint>
#include <string>

#include "ir/error.h"
#include "train/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  const uint32_t crc = static_cast<uint32_t>(crc32(0, data, static_cast<uInt>(size)));
  bytes.append(reinterpret_cast<const char*>(&crc), sizeof crc);
  try {
    stratum::parse_checkpoint(bytes, "fuzz.ckpt");
  } catch (const stratum::Error&) {
  }
  return 0;
}
