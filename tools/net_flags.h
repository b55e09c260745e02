// --net and --model: the net a tool runs, built in (nets/nets.h) or imported from an ONNX file.
#pragma once

#include <string>

#include "onnx/model_nets.h"
#include "tools/flags.h"

namespace stratum {

// --model's file as an absolute path, the model imported already so that a bad one is an error before any
// work (naming the file and node); "" when --model is not given.
std::string model_flag(const Flags& flags);
// The net that --model or --net (default `fallback`) names; Error when both are given.
const NetDef& net_flag(const Flags& flags, const std::string& fallback);

}  // namespace stratum
