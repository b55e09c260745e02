// The example plugin, loaded the way Stratum loads every plugin and checked against the reference backend.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backends/loader.h"
#include "backends/reference/plugin.h"
#include "backends/subgraph.h"
#include "ir/builder.h"
#include "ir/error.h"

namespace stratum {
namespace {

using Buffers = std::vector<std::vector<float>>;

const TensorType kType{DType::f32, {2, 3}};

const stratum_plugin& example() { return load_plugin("example"); }

std::vector<const Node*> all_nodes(const Graph& graph) {
  std::vector<const Node*> nodes;
  for (const auto& node : graph.nodes()) nodes.push_back(node.get());
  return nodes;
}

// A node the plugin does not run.
void add_conv2d(Graph& graph) {
  Builder(graph).conv2d(graph.add_input("image", {DType::f32, {1, 1, 4, 4}}),
                        graph.add_param("kernel", {DType::f32, {1, 1, 3, 3}}, {}));
}

// A subgraph compiled on a plugin, with the plugin's memory for its args.
class Program {
 public:
  Program(const stratum_plugin& plugin, const SubgraphDesc& desc)
      : plugin_(plugin), desc_(desc), program_(plugin.compile(&desc.subgraph())) {
    if (program_ == nullptr) fail("{} cannot compile: {}", plugin.name, plugin.last_error());
    for (const Value* arg : desc.args()) args_.push_back(plugin.alloc(arg->type().bytes()));
  }
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;
  ~Program() {
    for (void* arg : args_) plugin_.free(arg);
    plugin_.release(program_);
  }

  stratum_program* get() const { return program_; }

  // Runs once on `inputs`, one per input arg, and returns the output args.
  Buffers run(const Buffers& inputs) {
    const size_t n_inputs = static_cast<size_t>(desc_.subgraph().n_inputs);
    if (inputs.size() != n_inputs) fail("{} inputs for {} input args", inputs.size(), n_inputs);
    for (size_t i = 0; i < n_inputs; ++i)
      EXPECT_EQ(plugin_.copy_from_host(args_[i], inputs[i].data(), bytes(i)), 0);
    EXPECT_EQ(plugin_.run(program_, args_.data(), static_cast<int32_t>(args_.size())), 0)
        << plugin_.last_error();
    Buffers outputs;
    for (size_t i = n_inputs; i < args_.size(); ++i) {
      std::vector<float>& out = outputs.emplace_back(desc_.args()[i]->type().num_elements());
      EXPECT_EQ(plugin_.copy_to_host(out.data(), args_[i], bytes(i)), 0);
    }
    return outputs;
  }

 private:
  size_t bytes(size_t arg) const { return static_cast<size_t>(desc_.args()[arg]->type().bytes()); }

  const stratum_plugin& plugin_;
  const SubgraphDesc& desc_;
  stratum_program* program_;
  std::vector<void*> args_;
};

TEST(ExamplePlugin, NamesItself) {
  EXPECT_EQ(example().abi_version, static_cast<uint32_t>(STRATUM_PLUGIN_ABI_VERSION));
  EXPECT_STREQ(example().name, "example");
  EXPECT_STREQ(example().device_kind, "cpu");
  EXPECT_NE(example().node_times, nullptr);
}

TEST(ExamplePlugin, SupportsItsOpsOnF32AndNothingElse) {
  Graph graph;
  Builder b(graph);
  Value* x = graph.add_input("x", kType);
  Value* y = b.relu(x);
  b.sigmoid(x);
  b.add(x, y);
  graph.add_node("relu_grad", {x, y});
  graph.add_node("sigmoid_grad", {x, y});
  add_conv2d(graph);
  const std::vector<const Node*> nodes = all_nodes(graph);
  const SubgraphDesc desc(nodes, [](const Value*) { return false; });
  for (size_t i = 0; i < nodes.size(); ++i) {
    EXPECT_EQ(example().supports(&desc.node(i), desc.values(), desc.n_values()) != 0,
              nodes[i]->op_name() != "conv2d")
        << nodes[i]->op_name();
  }

  // The same relu on an i32 input is refused.
  std::vector<stratum_tensor_desc> values(desc.values(), desc.values() + desc.n_values());
  values[desc.node(0).inputs[0]].dtype = STRATUM_I32;
  EXPECT_EQ(example().supports(&desc.node(0), values.data(), desc.n_values()), 0);
  // And so is a node whose output id is past the values it is given.
  EXPECT_EQ(example().supports(&desc.node(0), desc.values(), desc.node(0).outputs[0]), 0);
}

TEST(ExamplePlugin, ListsTheSchemasOfItsOpsAndPassesTheLoadersChecks) {
  ASSERT_EQ(example().n_op_schemas, 5);
  EXPECT_STREQ(example().op_schemas[0].op, "relu");
  EXPECT_NO_THROW(check_plugin(example(), "example"));
}

TEST(ExamplePlugin, ARunGivenTheWrongNumberOfArgsFails) {
  Graph graph;
  Builder(graph).relu(graph.add_input("x", kType));
  const SubgraphDesc desc(all_nodes(graph), [](const Value*) { return true; });
  Program program(example(), desc);
  std::vector<void*> args(3, nullptr);
  EXPECT_NE(example().run(program.get(), args.data(), 3), 0);
  EXPECT_STREQ(example().last_error(), "run: given 3 args, the program has 2");
}

TEST(ExamplePlugin, RunsReluThenAddLikeTheReference) {
  Graph graph;
  Builder b(graph);
  Value* x = graph.add_input("x", kType);
  Value* z = b.add(b.relu(x), graph.add_input("bias", kType));
  const SubgraphDesc desc(all_nodes(graph), [&](const Value* v) { return v == z; });
  const Buffers inputs = {{-2, -0.5f, 0, 0.5f, 2, 3}, {1, 1, 1, -1, -1, -1}};

  const Buffers out = Program(example(), desc).run(inputs);
  EXPECT_EQ(out, Program(reference_plugin(), desc).run(inputs));
  EXPECT_EQ(out, (Buffers{{1, 1, 1, -0.5f, 1, 2}}));
}

// A training step in miniature, using every op the plugin has; an output (h) is also read inside.
TEST(ExamplePlugin, RunsEveryOpLikeTheReference) {
  Graph graph;
  Builder b(graph);
  Value* x = graph.add_input("x", kType);
  Value* w = graph.add_input("w", kType);
  Value* s = b.sigmoid(x);
  Value* r = b.relu(x);
  Value* h = b.add(s, r);
  Value* dr = graph.add_node("relu_grad", {h, r})->output();
  Value* ds = graph.add_node("sigmoid_grad", {dr, s})->output();
  Value* updated = b.add(w, ds);
  const SubgraphDesc desc(all_nodes(graph), [&](const Value* v) { return v == h || v == updated; });
  const Buffers inputs = {{-3, -1, -0.25f, 0.25f, 1, 3}, {0.5f, -0.5f, 1, -1, 2, -2}};

  const Buffers out = Program(example(), desc).run(inputs);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out, Program(reference_plugin(), desc).run(inputs));
}

TEST(ExamplePlugin, TimesEachNodeOfTheLastRun) {
  Graph graph;
  Builder b(graph);
  b.sigmoid(b.relu(graph.add_input("x", kType)));
  const SubgraphDesc desc(all_nodes(graph), [](const Value* v) { return v->users().empty(); });
  Program program(example(), desc);
  program.run({{1, 2, 3, 4, 5, 6}});

  std::vector<double> ms(2, -1);
  ASSERT_EQ(example().node_times(program.get(), ms.data(), 2), 0) << example().last_error();
  for (double t : ms) EXPECT_GE(t, 0);
  EXPECT_NE(example().node_times(program.get(), ms.data(), 3), 0);
  EXPECT_NE(std::string(example().last_error()).find("given 3 nodes"), std::string::npos);
}

TEST(ExamplePlugin, RefusesToCompileANodeItDoesNotSupport) {
  Graph graph;
  add_conv2d(graph);
  const SubgraphDesc desc(all_nodes(graph), [](const Value*) { return true; });
  EXPECT_EQ(example().compile(&desc.subgraph()), nullptr);
  EXPECT_NE(std::string(example().last_error()).find("conv2d"), std::string::npos) << example().last_error();
}

}  // namespace
}  // namespace stratum
