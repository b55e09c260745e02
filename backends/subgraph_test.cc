// rebuild_graph on descriptions from across the plugin ABI: every id and count is checked before use.
#include "backends/subgraph.h"

#include <gtest/gtest.h>

#include "ir/error.h"
#include "ir/parser.h"

namespace stratum {
namespace {

std::string rebuild_error(const stratum_subgraph& subgraph) {
  try {
    rebuild_graph(subgraph);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(RebuildGraph, BadIdsAndCountsNameTheNode) {
  const auto graph = parse_graph(
      "graph g {\n  input %x : f32[2,3]\n  %y = relu(%x) : f32[2,3]\n  %z = sigmoid(%y) : f32[2,3]\n"
      "  output %z\n}");
  const SubgraphDesc desc({graph->nodes()[0].get(), graph->nodes()[1].get()},
                          [&](const Value* v) { return v == graph->outputs()[0]; });
  EXPECT_EQ(rebuild_graph(desc.subgraph()).graph->outputs().size(), 1u);

  stratum_node relu = desc.node(0), sigmoid = desc.node(1);
  const int32_t far[] = {7}, negative[] = {-1}, defined[] = {0};
  stratum_node pair[2];
  auto with = [&](stratum_node first, stratum_node second) {
    pair[0] = first;
    pair[1] = second;
    stratum_subgraph s = desc.subgraph();
    s.nodes = pair;
    return s;
  };
  stratum_node bad = relu;
  bad.inputs = far;
  EXPECT_EQ(rebuild_error(with(bad, sigmoid)), "relu -> %y: input 0 is value 7, not in [0,3)");
  bad = sigmoid;
  bad.outputs = negative;
  EXPECT_EQ(rebuild_error(with(relu, bad)), "sigmoid -> %z: output 0 is value -1, not in [0,3)");
  bad.outputs = defined;
  EXPECT_EQ(rebuild_error(with(relu, bad)), "sigmoid -> %z: output 0 (value 0) is already defined");
  bad = relu;
  bad.n_inputs = -1;
  EXPECT_EQ(rebuild_error(with(bad, sigmoid)),
            "relu -> %y: negative counts of inputs, outputs or attributes");

  stratum_subgraph s = desc.subgraph();
  const int32_t args[] = {0, 5};
  s.args = args;
  EXPECT_EQ(rebuild_error(s), "subgraph: arg 1 is value 5, not in [0,3)");
  s = desc.subgraph();
  s.n_values = -1;
  EXPECT_NE(rebuild_error(s).find("subgraph counts are invalid"), std::string::npos);
  s = desc.subgraph();
  s.n_nodes = 1;  // the output arg is never computed
  EXPECT_EQ(rebuild_error(s), "subgraph: output arg 1 is never computed");
}

}  // namespace
}  // namespace stratum
