// The helpers for C++ plugins check the counts the ABI passes them.
#include "backends/cpp_plugin.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace stratum {
namespace {

// A program that counts its runs and reports two node times.
struct CountingProgram {
  int runs = 0;
  std::vector<double> times{1.0, 2.0};
  void run(void* const*) { ++runs; }
  const std::vector<double>& node_times() const { return times; }
};

std::unique_ptr<CountingProgram> compile_counting(const stratum_subgraph&, const uint8_t*) {
  return std::make_unique<CountingProgram>();
}

using Functions = ProgramFunctions<CountingProgram, compile_counting>;

TEST(ProgramFunctions, RunAndNodeTimesFailOnAWrongCount) {
  stratum_subgraph subgraph{};
  subgraph.n_args = 2;
  stratum_program* program = Functions::compile(&subgraph);
  void* args[3] = {};
  EXPECT_EQ(Functions::run(program, args, 2), 0);
  EXPECT_NE(Functions::run(program, args, 3), 0);
  EXPECT_EQ(plugin_last_error(), "run: given 3 args, the program has 2");
  EXPECT_EQ(Functions::of(program)->program->runs, 1);

  double ms[3];
  EXPECT_EQ(Functions::node_times(program, ms, 2), 0);
  EXPECT_EQ(ms[1], 2.0);
  EXPECT_NE(Functions::node_times(program, ms, 3), 0);
  EXPECT_EQ(plugin_last_error(), "node_times: given 3 nodes, the program has 2");
  Functions::release(program);
}

TEST(PlainValues, RefusesIdsPastTheValues) {
  const stratum_tensor_desc values[2] = {{STRATUM_F32, 1, {4}}, {STRATUM_F32, 1, {4}}};
  const int32_t input = 0, output = 1, negative = -1;
  stratum_node node{};
  node.n_inputs = node.n_outputs = 1;
  node.inputs = &input;
  node.outputs = &output;
  EXPECT_TRUE(plain_values(&node, values, 2, 4));
  EXPECT_FALSE(plain_values(&node, values, 1, 4));
  node.inputs = &negative;
  EXPECT_FALSE(plain_values(&node, values, 2, 4));
}

TEST(OpSchemasWhere, PicksTheListedOpsFromTheGeneratedHeader) {
  const std::vector<stratum_op_schema> picked =
      op_schemas_where([](const char* op) { return std::string(op) == "relu"; });
  ASSERT_EQ(picked.size(), 1u);
  EXPECT_STREQ(picked[0].schema, "1 input");
}

}  // namespace
}  // namespace stratum
