// Training checkpoints: everything a run needs to continue exactly where it stopped.
//
// Format (little-endian), version 1:
//   "STRATUM-CHECKPOINT\n"                      magic, 19 bytes
//   u32 version                                 1
//   u32 header length, header                   text lines "key=value": net, epoch (completed), step
//                                               (global step count), seed, and one "metrics=..." line per
//                                               completed epoch (epoch,loss,train_acc,test_acc,seconds,
//                                               examples_per_sec)
//   u32 tensor count, then per tensor:          weights, batch-norm state and optimizer state alike
//     u32 name length, name, u32 dtype (0 f32, 1 i32), u32 rank, i64 dims[rank], the elements
//   u32 CRC-32 (zlib's) of every byte before it
// Files are written atomically (train/files.h): a killed process leaves the previous checkpoint intact.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "backends/tensor.h"

namespace stratum {

struct Checkpoint {
  std::map<std::string, std::string> header;  // key -> value; "metrics" holds lines joined by '\n'
  std::map<std::string, Tensor> tensors;
};

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);
// Throws Error naming the file when it is missing, truncated, corrupt (checksum), or of another version.
Checkpoint load_checkpoint(const std::string& path);
// The same from a checkpoint's bytes; `path` names them in errors.
Checkpoint parse_checkpoint(std::string_view bytes, const std::string& path);

}  // namespace stratum
