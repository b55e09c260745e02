// Training checkpoints: everything a run needs to continue exactly where it stopped.
//
// Format (little-endian), version 1:
//   "STRATUM-CHECKPOINT\n"                      magic, 19 bytes
//   u32 version                                 1
//   u32 header length, header                   text lines "key=value": net, epoch (completed), step
//                                               (global step count), seed, and one "metrics=..." line per
//                                               completed epoch (epoch,loss,train_acc,test_acc,seconds,
//                                               examples_per_sec[,val_loss,val_acc])
//   u32 tensor count, then per tensor:          weights, batch-norm state and optimizer state alike
//     u32 name length, name, u32 dtype (0 f32, 1 i32), u32 rank, i64 dims[rank], the elements
//   u32 CRC-32 (zlib's) of every byte before it
// Files are written atomically (train/files.h): a killed process leaves the previous checkpoint intact.
// Before a new checkpoint replaces the old, it is read back and checked, and the old one is kept beside it
// as <name>.prev.ckpt, so a run always has a good checkpoint even if its latest turns out damaged.
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

// Error naming the tensor when an f32 tensor holds a NaN or an infinity: such weights are never saved. The
// tensors are written from where they are, with no copy of them in memory.
void save_checkpoint(const std::string& path, const std::map<std::string, std::string>& header,
                     const std::map<std::string, Tensor>& tensors);
// Where save_checkpoint keeps the checkpoint it replaced: checkpoint.ckpt -> checkpoint.prev.ckpt.
std::string previous_checkpoint_path(const std::string& path);
// Throws Error naming the file when it is missing, truncated, corrupt (checksum), or of another version.
Checkpoint load_checkpoint(const std::string& path);
// The same from a checkpoint's bytes; `path` names them in errors.
Checkpoint parse_checkpoint(std::string_view bytes, const std::string& path);

}  // namespace stratum
