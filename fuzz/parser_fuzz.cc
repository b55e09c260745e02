// The IR text parser: any text parses or fails with Error; what parses prints and parses back the same.
#include <cstdint>
#include <cstdlib>

#include "ir/error.h"
#include "ir/parser.h"
#include "ir/printer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<stratum::Graph> graph;
  try {
    graph = stratum::parse_graph(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const stratum::Error&) {
    return 0;
  }
  const std::string text = stratum::print_graph(*graph);
  if (stratum::print_graph(*stratum::parse_graph(text)) != text) std::abort();
  return 0;
}
