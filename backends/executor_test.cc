#include "backends/executor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>

#include "backends/reference/plugin.h"
#include "ir/error.h"
#include "ir/parser.h"
#include "passes/autodiff.h"
#include "passes/fusion.h"
#include "tests/test_nets.h"

namespace stratum {
namespace {

std::map<std::string, Tensor> feeds_for(const Graph& graph) {
  std::mt19937 rng(5);
  std::map<std::string, Tensor> feeds;
  for (const Value* input : graph.leaves_of(ValueKind::kInput)) {
    Tensor t(input->type());
    for (int64_t i = 0; i < t.size(); ++i) {
      if (input->type().dtype == DType::i32) {
        t.i32()[i] = static_cast<int32_t>(rng() % 3);
      } else {
        t.f32()[i] = std::uniform_real_distribution<float>(-1, 1)(rng);
      }
    }
    feeds[input->name()] = std::move(t);
  }
  return feeds;
}

std::unique_ptr<Graph> training_step() {
  auto graph = testing::every_op_net(4);
  build_training_step(*graph);
  return graph;
}

// Two steps on the executor give the interpreter's outputs and state, bit for bit.
void expect_same_as_interpreter(const stratum_plugin& plugin) {
  auto graph = training_step();
  const auto feeds = feeds_for(*graph);
  Store expected = init_store(*graph, 9);
  Executor executor(*graph, plugin);
  executor.load_state(expected);
  Interpreter interpreter(*graph);
  for (int step = 0; step < 2; ++step) {
    interpreter.run(feeds, expected);
    executor.run(feeds);
  }
  const auto outputs = executor.outputs();
  EXPECT_EQ(outputs[0].f32()[0], interpreter.outputs()[0].f32()[0]);
  EXPECT_EQ(outputs[1].i32()[0], interpreter.outputs()[1].i32()[0]);
  const Store state = executor.save_state();
  for (const auto& [name, tensor] : expected) {
    ASSERT_EQ(state.at(name).type(), tensor.type()) << name;
    EXPECT_EQ(std::memcmp(state.at(name).data(), tensor.data(), tensor.type().bytes()), 0) << name;
  }
}

TEST(Executor, ReferenceRunsTheWholeStepAsOnePartition) {
  auto graph = training_step();
  EXPECT_EQ(partition_graph(*graph, reference_plugin()).size(), 1u);
  expect_same_as_interpreter(reference_plugin());
}

// The reference plugin under another name, without relu and sigmoid: those fall back.
const stratum_plugin& partial_plugin() {
  static const stratum_plugin plugin = [] {
    stratum_plugin p = reference_plugin();
    p.name = "partial";
    p.supports = [](const stratum_node* node, const stratum_tensor_desc* values, int32_t n_values) -> int {
      return std::strcmp(node->op, "relu") != 0 && std::strcmp(node->op, "sigmoid") != 0 &&
             reference_plugin().supports(node, values, n_values);
    };
    return p;
  }();
  return plugin;
}

TEST(Executor, UnsupportedNodesFallBackAndAreLoggedOncePerOp) {
  auto graph = training_step();
  ::testing::internal::CaptureStderr();
  const auto partitions = partition_graph(*graph, partial_plugin());
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_GT(partitions.size(), 4u);
  for (const Partition& p : partitions) {
    for (const Node* node : p.nodes) {
      const bool unsupported = node->op_name() == "relu" || node->op_name() == "sigmoid";
      EXPECT_EQ(p.plugin == &reference_plugin(), unsupported) << node->label();
    }
  }
  EXPECT_NE(log.find("partial does not run relu"), std::string::npos) << log;
  EXPECT_EQ(log.find("does not run relu"), log.rfind("does not run relu")) << "logged more than once:\n"
                                                                           << log;
  expect_same_as_interpreter(partial_plugin());
}

// A "gpu" plugin: the reference kernels over memory the executor must treat as the device's, so every
// value that crosses to or from the fallback is copied.
int allocations = 0;
const stratum_plugin& device_plugin() {
  static const stratum_plugin plugin = [] {
    stratum_plugin p = partial_plugin();
    p.name = "device";
    p.device_kind = "gpu";
    p.alloc = [](size_t bytes) {
      ++allocations;
      return reference_plugin().alloc(bytes);
    };
    return p;
  }();
  return plugin;
}

TEST(Executor, ValuesCrossingDevicesAreCopiedAndRunsAllocateNothing) {
  expect_same_as_interpreter(device_plugin());
  auto graph = training_step();
  Executor executor(*graph, device_plugin());
  executor.load_state(init_store(*graph, 1));
  const int after_setup = allocations;
  for (int step = 0; step < 3; ++step) executor.run(feeds_for(*graph));
  EXPECT_EQ(allocations, after_setup);
}

TEST(Executor, ErrorsNameWhatIsMissing) {
  auto graph = training_step();
  Executor executor(*graph, reference_plugin());
  try {
    executor.load_state({});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is missing"), std::string::npos) << e.what();
  }
  executor.load_state(init_store(*graph, 1));
  auto feeds = feeds_for(*graph);
  feeds.erase("labels");
  try {
    executor.run(feeds);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("input %labels (i32[4]) is not fed"), std::string::npos) << e.what();
  }
}

// The reference plugin under another name, counting the programs it runs.
int program_runs = 0;
const stratum_plugin& counting_plugin() {
  static const stratum_plugin plugin = [] {
    stratum_plugin p = reference_plugin();
    p.name = "counting";
    p.run = [](stratum_program* program, void* const* args, int32_t n_args) {
      ++program_runs;
      return reference_plugin().run(program, args, n_args);
    };
    return p;
  }();
  return plugin;
}

// In inference, batch norm folded into the conv weights is constant: it runs on the first run and after each
// load_state only, and follows the state loaded.
TEST(Executor, ConstantNodesRunAfterEachLoadStateOnly) {
  auto graph = testing::every_op_net(4, /*training=*/false);
  fusion_manager(/*training=*/false).run(*graph);
  Executor executor(*graph, counting_plugin());
  const size_t all = executor.partitions().size(), prologue = executor.prologue_size();
  ASSERT_EQ(prologue, 1u);
  EXPECT_EQ(executor.partitions()[0].nodes.front()->op_name(), "fold_batch_norm");
  const auto feeds = feeds_for(*graph);
  Store state = init_store(*graph, 9);
  auto expect_outputs_of = [&](const Store& store) {
    Store copy = store;
    Interpreter interpreter(*graph);
    interpreter.run(feeds, copy);
    const auto got = executor.outputs(), want = interpreter.outputs();
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(std::memcmp(got[i].data(), want[i].data(), want[i].type().bytes()), 0) << "output " << i;
    }
  };
  executor.load_state(state);
  program_runs = 0;
  for (int step = 0; step < 3; ++step) executor.run(feeds);
  EXPECT_EQ(program_runs, static_cast<int>(3 * all - 2 * prologue));
  expect_outputs_of(state);
  for (int64_t i = 0; i < state.at("bn1.gamma").size(); ++i) state.at("bn1.gamma").f32()[i] = 0.5f + i;
  executor.load_state(state);
  program_runs = 0;
  executor.run(feeds);
  EXPECT_EQ(program_runs, static_cast<int>(all));
  expect_outputs_of(state);
}

TEST(Executor, RunBeforeLoadStateIsAnError) {
  auto graph = training_step();
  Executor executor(*graph, reference_plugin());
  try {
    executor.run(feeds_for(*graph));
    ADD_FAILURE() << "ran on params that were never loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("run before load_state"), std::string::npos) << e.what();
  }
}

Tensor vector_of(std::vector<float> values) {
  Tensor t({DType::f32, {static_cast<int64_t>(values.size())}});
  std::copy(values.begin(), values.end(), t.f32());
  return t;
}

std::vector<float> elements(const Tensor& t) { return {t.f32(), t.f32() + t.size()}; }

// Updates read the state before the step, all of them: %a and %b swap, %c keeps itself.
TEST(Executor, UpdatesLandTogetherSoASwapSwaps) {
  auto graph = parse_graph(R"(graph swap {
  input %x : f32[2]
  state %a : f32[2] = zeros
  state %b : f32[2] = zeros
  state %c : f32[2] = zeros
  %y = relu(%x) : f32[2]
  update %a = %b
  update %b = %a
  update %c = %c
  output %y
})");
  Executor executor(*graph, reference_plugin());
  executor.load_state({{"a", vector_of({1, 2})}, {"b", vector_of({3, 4})}, {"c", vector_of({5, 6})}});
  executor.run({{"x", vector_of({0, 0})}});
  const Store state = executor.save_state();
  EXPECT_EQ(elements(state.at("a")), std::vector<float>({3, 4}));
  EXPECT_EQ(elements(state.at("b")), std::vector<float>({1, 2}));
  EXPECT_EQ(elements(state.at("c")), std::vector<float>({5, 6}));
}

// An evaluation graph reads a training step's weights where the step holds them: load_state needs only the
// rest, and each run sees the weights as the last step left them.
TEST(Executor, ReadsAnotherExecutorsStateWithoutACopy) {
  auto step = parse_graph(R"(graph step {
  input %x : f32[2]
  param %w : f32[2] = zeros
  %n = add(%w, %x) : f32[2]
  update %w = %n
  output %n
})");
  auto eval = parse_graph(R"(graph eval {
  input %x : f32[2]
  param %w : f32[2] = zeros
  param %b : f32[2] = zeros
  %y = add(%w, %x) : f32[2]
  %z = add(%y, %b) : f32[2]
  output %z
})");
  Executor training(*step, reference_plugin());
  Executor evaluating(*eval, reference_plugin(), &training);
  training.load_state({{"w", vector_of({1, 2})}});
  evaluating.load_state({{"b", vector_of({10, 20})}});  // no %w: it is the training step's
  evaluating.run({{"x", vector_of({0, 0})}});
  EXPECT_EQ(elements(evaluating.outputs()[0]), std::vector<float>({11, 22}));
  training.run({{"x", vector_of({1, 1})}});
  evaluating.run({{"x", vector_of({0, 0})}});
  EXPECT_EQ(elements(evaluating.outputs()[0]), std::vector<float>({12, 23}));
  EXPECT_EQ(elements(evaluating.save_state().at("w")), std::vector<float>({2, 3}));
  EXPECT_THROW(evaluating.load_state({}), Error);  // %b is its own
}

// A step whose new weights are not finite applies none of them, and names the param.
TEST(Executor, ANonFiniteUpdateIsNeverApplied) {
  auto graph = parse_graph(R"(graph accumulate {
  input %x : f32[2]
  param %w : f32[2] = zeros
  param %v : f32[2] = zeros
  %n = add(%w, %x) : f32[2]
  %m = add(%v, %x) : f32[2]
  update %v = %m
  update %w = %n
  output %m
})");
  Executor executor(*graph, reference_plugin());
  executor.load_state({{"w", vector_of({1, 1})}, {"v", vector_of({1, 1})}});
  executor.run({{"x", vector_of({1, 2})}});
  try {
    executor.run({{"x", vector_of({1, std::numeric_limits<float>::infinity()})}});
    ADD_FAILURE() << "no error";
  } catch (const NonFiniteStep& e) {
    EXPECT_NE(std::string(e.what()).find("output %m is not finite; no update was applied"), std::string::npos)
        << e.what();
  }
  const Store state = executor.save_state();
  EXPECT_EQ(elements(state.at("w")), std::vector<float>({2, 3}));
  EXPECT_EQ(elements(state.at("v")), std::vector<float>({2, 3}));
}

// The reference plugin under another name, failing its runs while `fail_runs` is set.
bool fail_runs = false;
const stratum_plugin& failing_plugin() {
  static const stratum_plugin plugin = [] {
    stratum_plugin p = reference_plugin();
    p.name = "failing";
    p.run = [](stratum_program* program, void* const* args, int32_t n_args) {
      if (fail_runs) return 1;
      return reference_plugin().run(program, args, n_args);
    };
    return p;
  }();
  return plugin;
}

TEST(Executor, APluginThatFailsMidStepLeavesTheStateAsItWas) {
  auto graph = training_step();
  Executor executor(*graph, failing_plugin());
  executor.load_state(init_store(*graph, 3));
  const auto feeds = feeds_for(*graph);
  executor.run(feeds);
  const Store before = executor.save_state();
  fail_runs = true;
  try {
    executor.run(feeds);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("failing: running "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(graph->nodes().front()->label()), std::string::npos) << e.what();
  }
  fail_runs = false;
  const Store after = executor.save_state();
  for (const auto& [name, tensor] : before)
    EXPECT_EQ(std::memcmp(tensor.data(), after.at(name).data(), tensor.type().bytes()), 0) << name;
}

// The reference plugin without relu in its op_schemas: its supports() still says yes, but Stratum does not
// ask about an op whose schema the plugin did not declare.
TEST(Executor, OpsAPluginDoesNotListRunOnTheReference) {
  static std::vector<stratum_op_schema> schemas;
  const stratum_plugin& reference = reference_plugin();
  std::copy_if(reference.op_schemas, reference.op_schemas + reference.n_op_schemas,
               std::back_inserter(schemas),
               [](const stratum_op_schema& s) { return std::strcmp(s.op, "relu") != 0; });
  stratum_plugin unlisted = reference;
  unlisted.name = "unlisted";
  unlisted.n_op_schemas = static_cast<int32_t>(schemas.size());
  unlisted.op_schemas = schemas.data();
  auto graph = training_step();
  ::testing::internal::CaptureStderr();
  for (const Partition& p : partition_graph(*graph, unlisted)) {
    for (const Node* node : p.nodes)
      EXPECT_EQ(p.plugin == &reference_plugin(), node->op_name() == "relu") << node->label();
  }
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("unlisted does not run relu"), std::string::npos);
}

TEST(Executor, NodeTimesCoverEveryNodeOfPluginsThatReportThem) {
  auto graph = training_step();
  Executor executor(*graph, reference_plugin());
  EXPECT_TRUE(executor.node_times().empty());  // the reference plugin reports none
}

// arena_bytes is summed over a plugin's programs, and read only where the plugin's struct_size covers it.
TEST(Executor, ArenaBytesOfPluginsThatReportThem) {
  auto graph = training_step();
  EXPECT_TRUE(Executor(*graph, reference_plugin()).arena_bytes().empty());  // the reference reports none
  stratum_plugin reporting = reference_plugin();
  reporting.name = "reporting";
  reporting.arena_bytes = [](stratum_program*) -> size_t { return 1000; };
  const Executor executor(*graph, reporting);
  size_t programs = 0;
  for (const Partition& p : executor.partitions()) programs += p.plugin == &reporting;
  ASSERT_GT(programs, 0u);
  EXPECT_EQ(executor.arena_bytes(), (std::map<std::string, size_t>{{"reporting", 1000 * programs}}));
  stratum_plugin older = reporting;  // built before arena_bytes existed: what lies there is not read
  older.struct_size = offsetof(stratum_plugin, arena_bytes);
  EXPECT_TRUE(Executor(*graph, older).arena_bytes().empty());
}

}  // namespace
}  // namespace stratum
