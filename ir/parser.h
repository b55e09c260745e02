// Reads the text form that print_graph() writes. Errors are stratum::Error with "line:col: reason".
#pragma once

#include <memory>
#include <string_view>

#include "ir/graph.h"

namespace stratum {

// Parses one graph. Shape inference runs on every node; a written result type that disagrees with the
// inferred one is an error at that type. `source` names the text in messages ("model.ir:3:7: ...").
std::unique_ptr<Graph> parse_graph(std::string_view text, std::string_view source = "<input>");

}  // namespace stratum
