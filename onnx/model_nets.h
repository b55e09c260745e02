// Nets by name for the tools and the trainer: the built-in ones (nets/nets.h), and ONNX models named by
// their file's path (ending in ".onnx"), imported once per process.
#pragma once

#include <string>

#include "onnx/import.h"

namespace stratum {

// What an imported model trains with unless flags say otherwise (the input size is the model's).
inline const Recipe kModelRecipe = {128, 0.1, 10, 0};

bool is_model_path(const std::string& name);
// The built-in net of that name, or the model at that path, imported (Error naming the file and node when
// it does not import); the net lives as long as the process.
const NetDef& find_any_net(const std::string& name);
// An imported model's initializers by param name: every param and state of its inference graph; null for a
// built-in net.
const Store* model_weights(const NetDef& net);
// Puts an imported model's initializers in place of the initialisation in `state` (nothing for a built-in
// net); Error naming a weight that is not in `state` with the same type.
void use_model_weights(const NetDef& net, Store& state);

}  // namespace stratum
