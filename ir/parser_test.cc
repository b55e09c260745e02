#include "ir/parser.h"

#include <gtest/gtest.h>

#include "ir/error.h"
#include "ir/op.h"
#include "ir/printer.h"
#include "ir/verifier.h"

namespace stratum {
namespace {

constexpr char kConvNet[] = R"(graph small {
  input %x : f32[2,3,8,8]
  input %labels : i32[2]
  param %w : f32[4,3,3,3] = xavier_uniform
  param %b : f32[4] = uniform(0.19245009)
  param %fc : f32[10,64] = xavier_uniform
  %0 = conv2d(%x, %w, %b) {padding=[1,1]} : f32[2,4,8,8]
  %1 = relu(%0) : f32[2,4,8,8]
  %2 = max_pool(%1) {kernel=[2,2], stride=[2,2]} : f32[2,4,4,4]
  %3 = flatten(%2) : f32[2,64]
  %4 = linear(%3, %fc) : f32[2,10]
  %loss, %correct = softmax_cross_entropy(%4, %labels) : f32[], i32[]
  output %loss, %correct
}
)";

TEST(Parser, PrintParsePrintIsTheIdentity) {
  auto graph = parse_graph(kConvNet);
  verify_graph(*graph);
  EXPECT_EQ(print_graph(*graph), kConvNet);
  EXPECT_EQ(graph->nodes().size(), 6u);
  EXPECT_EQ(graph->find("w")->init().kind, Init::kXavierUniform);
  EXPECT_DOUBLE_EQ(graph->find("b")->init().bound, 0.19245009);
  EXPECT_EQ(graph->nodes()[0]->attr_ints("stride"), (Ints{1, 1}));  // a default, filled in
}

// Every op's text form: each example (OpDef::examples) as a one-node graph, printed, parsed and printed
// again.
TEST(Parser, EveryOpExampleRoundTrips) {
  for (const OpDef* op : all_ops()) {
    for (const OpExample& example : op->examples) {
      Graph graph("example");
      std::vector<Value*> inputs;
      for (const ExampleInput& input : example.inputs)
        inputs.push_back(graph.add_input("x" + std::to_string(inputs.size()), input.type));
      for (Value* output : graph.add_node(op->name, inputs, example.attrs)->outputs())
        graph.add_output(output);
      const std::string text = print_graph(graph);
      EXPECT_EQ(print_graph(*parse_graph(text)), text) << example_label(*op, example);
    }
  }
}

// softmax's axis, and avg_pool's count_include_pad, printed only where it is not its default (true), so
// that text written before it existed keeps its meaning.
TEST(Parser, SoftmaxAxisAndCountIncludePadRoundTrip) {
  constexpr char kText[] = R"(graph g {
  input %x : f32[1,2,3,3]
  %0 = avg_pool(%x) {kernel=[3,3], stride=[1,1], padding=[1,1], count_include_pad=false} : f32[1,2,3,3]
  %1 = avg_pool(%x) {kernel=[3,3], stride=[1,1], padding=[1,1]} : f32[1,2,3,3]
  %2 = softmax(%0) {axis=1} : f32[1,2,3,3]
  output %1, %2
}
)";
  auto graph = parse_graph(kText);
  verify_graph(*graph);
  EXPECT_EQ(print_graph(*graph), kText);
  EXPECT_FALSE(graph->nodes()[0]->attr_bool("count_include_pad"));
  EXPECT_TRUE(graph->nodes()[1]->attr_bool("count_include_pad"));
  EXPECT_EQ(graph->nodes()[2]->attr_int("axis"), 1);
}

// A node's origin, the layer it belongs to, follows '@'; a node without one has none. A backward node's
// line ends with `backward`.
TEST(Parser, OriginsRoundTrip) {
  constexpr char kText[] = R"(graph g {
  input %x : f32[1,2,4,4]
  param %conv.weight : f32[2,2,1,1] = xavier_uniform
  %0 = conv2d(%x, %conv.weight) : f32[1,2,4,4] @conv
  %1 = relu(%0) : f32[1,2,4,4] @stem.conv+stem.bn
  %2 = relu(%1) : f32[1,2,4,4] @0
  %3 = relu(%2) : f32[1,2,4,4]
  %4 = relu_grad(%3, %2) : f32[1,2,4,4] @0 backward
  %5 = relu_grad(%4, %2) : f32[1,2,4,4] backward
  output %3, %5
}
)";
  auto graph = parse_graph(kText);
  EXPECT_EQ(print_graph(*graph), kText);
  EXPECT_EQ(graph->nodes()[0]->origin(), "conv");
  EXPECT_EQ(graph->nodes()[1]->origin(), "stem.conv+stem.bn");
  EXPECT_EQ(graph->nodes()[2]->origin(), "0");  // PyTorch's nn.Sequential names its layers 0, 1, ...
  EXPECT_EQ(graph->nodes()[3]->origin(), "");
  EXPECT_EQ(graph->nodes()[4]->origin(), "0");
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(graph->nodes()[i]->backward(), i >= 4) << i;
}

TEST(Graph, OriginAndBackwardScopesNestAndEnd) {
  Graph graph;
  Value* x = graph.add_input("x", {DType::f32, {3}});
  const Node* outer = nullptr;
  const Node* inner = nullptr;
  {
    Graph::OriginScope scope(graph, "block");
    {
      Graph::OriginScope nested(graph, "block.conv");
      inner = graph.add_node("relu", {x});
    }
    outer = graph.add_node("relu", {x});
  }
  const Node* after = graph.add_node("relu", {x});
  const Node* backward = [&] {
    Graph::BackwardScope scope(graph);
    return graph.add_node("relu", {x});
  }();
  EXPECT_TRUE(backward->backward());
  EXPECT_FALSE(graph.add_node("relu", {x})->backward());
  EXPECT_EQ(inner->origin(), "block.conv");
  EXPECT_EQ(outer->origin(), "block");
  EXPECT_EQ(after->origin(), "");
  for (const char* bad : {"+a", "a+", "a++b", "a b", "a/b"}) {
    EXPECT_THROW(Graph::OriginScope(graph, bad), Error) << bad;
  }
}

TEST(Parser, CommentsAndLayoutAreFree) {
  auto graph =
      parse_graph("# a comment\ngraph g{input %x:f32[3]   # trailing\n%y=relu(%x):f32[3] output %y}");
  EXPECT_EQ(print_graph(*graph),
            "graph g {\n  input %x : f32[3]\n  %y = relu(%x) : f32[3]\n  output %y\n}\n");
}

TEST(Parser, NumberedNamesStayUnnamed) {
  auto graph = parse_graph("graph g {\n  input %x : f32[3]\n  %7 = relu(%x) : f32[3]\n  output %7\n}\n");
  EXPECT_TRUE(graph->nodes()[0]->output()->name().empty());
  EXPECT_NE(print_graph(*graph).find("%0 = relu(%x)"), std::string::npos);
}

TEST(Parser, FloatAttributesRoundTripExactly) {
  auto graph = parse_graph(
      "graph g {\n  input %x : f32[4,2]\n  param %g : f32[2] = ones\n  param %b : f32[2] = zeros\n"
      "  state %m : f32[2] = zeros\n  state %v : f32[2] = ones\n"
      "  %y = batch_norm(%x, %g, %b, %m, %v) {eps=0.001, momentum=0.30000000000000004, training=false} : "
      "f32[4,2]\n"
      "  output %y\n}\n");
  EXPECT_EQ(graph->nodes()[0]->attr_float("momentum"), 0.1 + 0.2);
  EXPECT_EQ(print_graph(*parse_graph(print_graph(*graph))), print_graph(*graph));
}

struct Malformed {
  const char* what;
  const char* text;
  int line, col;
  const char* reason;  // a substring of the message
};

// Each body line below is "  " + statement, so columns count from the line's start.
const Malformed kMalformed[] = {
    {"origin with an empty part", "graph g {\n  input %x : f32[3]\n  %y = relu(%x) : f32[3] @a++b\n}", 3, 26,
     "expected layer names joined by '+' after '@'"},
    {"origin before the type", "graph g {\n  input %x : f32[3]\n  %y = relu(%x) @a : f32[3]\n}", 3, 17,
     "expected ':', got '@a'"},
    {"missing graph name", "graph {\n}", 1, 7, "expected a graph name"},
    {"unknown op", "graph g {\n  input %x : f32[3]\n  %y = gelu(%x) : f32[3]\n}", 3, 8, "unknown op 'gelu'"},
    {"undefined value", "graph g {\n  input %x : f32[3]\n  %y = relu(%z) : f32[3]\n}", 3, 13,
     "%z is not defined"},
    {"redefinition", "graph g {\n  input %x : f32[3]\n  input %x : f32[3]\n}", 3, 9, "%x is already defined"},
    {"wrong result type", "graph g {\n  input %x : f32[3]\n  %y = relu(%x) : f32[4]\n}", 3, 19,
     "result type f32[4] does not match the inferred f32[3]"},
    {"unknown attribute",
     "graph g {\n  input %x : f32[1,1,4,4]\n  %y = max_pool(%x) {kernal=[2,2]} : f32[1,1,2,2]\n}", 3, 8,
     "unknown attribute 'kernal'"},
    {"attribute of the wrong kind",
     "graph g {\n  input %x : f32[1,1,4,4]\n  %y = max_pool(%x) {kernel=2, stride=[2,2]} : f32[1,1,2,2]\n}",
     3, 8, "attribute 'kernel' must be int list"},
    {"unterminated string", "graph g {\n  input %x : f32[3]\n  %y = relu(%x) {name=\"abc\n}", 3, 23,
     "unterminated string"},
    {"unknown element type", "graph g {\n  input %x : f64[3]\n}", 2, 14, "unknown element type 'f64'"},
    {"missing closing brace", "graph g {\n  input %x : f32[3]\n", 3, 1, "expected '}' to close the graph"},
    {"unexpected character", "graph g {\n  input %x : f32[3] $\n}", 2, 21, "unexpected character '$'"},
    {"channel mismatch",
     "graph g {\n  input %x : f32[1,3,8,8]\n  param %w : f32[4,2,3,3] = zeros\n"
     "  %y = conv2d(%x, %w) : f32[1,4,6,6]\n}",
     4, 8, "input has 3 channels but the weight expects 2"},
    {"too many inputs", "graph g {\n  input %x : f32[3]\n  %y = relu(%x, %x) : f32[3]\n}", 3, 8,
     "relu: takes 1 inputs, got 2"},
    {"param without initializer", "graph g {\n  param %w : f32[3]\n}", 3, 1, "expected '='"},
    {"update of an input", "graph g {\n  input %x : f32[3]\n  %y = relu(%x) : f32[3]\n  update %x = %y\n}", 4,
     10, "update target %x is not a param or state"},
    {"bad number", "graph g {\n  input %x : f32[3]\n  %y = dropout(%x, %x) {p=0.5.1} : f32[3]\n}", 3, 27,
     "'0.5.1' is not a number"},
    {"text after the graph", "graph g {\n}\ngraph h {\n}", 3, 1, "expected the end of input"},
    {"negative dimension", "graph g {\n  input %x : f32[-3]\n}", 2, 18, "dimension -3 must be at least 1"},
    {"zero dimension", "graph g {\n  input %x : f32[4,0]\n}", 2, 20, "dimension 0 must be at least 1"},
    {"dimension out of range", "graph g {\n  input %x : f32[99999999999999999999]\n}", 2, 18,
     "integer 99999999999999999999 is out of range"},
    {"element count overflow", "graph g {\n  input %x : f32[4294967296,4294967296]\n}", 2, 14,
     "more elements than int64 can count"},
    {"byte size overflow", "graph g {\n  input %x : f32[4611686018427387904]\n}", 2, 14,
     "more bytes than int64 can count"},
    {"dimension from an attribute",
     "graph g {\n  input %x : f32[1,2,1,1]\n  %y = global_avg_pool_grad(%x) {input_shape=[1,2,0,3]} : "
     "f32[1,2,1,3]\n}",
     3, 8, "f32[1,2,0,3] has a dimension of 0"},
    {"pool padding overflow",
     "graph g {\n  input %x : f32[1,1,4,4]\n"
     "  %y = max_pool(%x) {kernel=[2,2], stride=[1,1], padding=[4611686018427387904,0]} : f32[1,1,2,2]\n}",
     3, 8, "the padding is too large"},
    {"conv padding overflow",
     "graph g {\n  input %x : f32[1,1,4,4]\n  param %w : f32[1,1,3,3] = zeros\n"
     "  %y = conv2d(%x, %w) {padding=[4611686018427387904,0]} : f32[1,1,2,2]\n}",
     4, 8, "the padding is too large"},
    {"conv dilation overflow",
     "graph g {\n  input %x : f32[1,1,4,4]\n  param %w : f32[1,1,3,3] = zeros\n"
     "  %y = conv2d(%x, %w) {dilation=[4611686018427387904,1]} : f32[1,1,2,2]\n}",
     4, 8, "the dilated kernel is too large"},
    {"conv groups overflow",
     "graph g {\n  input %x : f32[1,1,4,4]\n  param %w : f32[1,2,3,3] = zeros\n"
     "  %y = conv2d(%x, %w) {groups=4611686018427387904} : f32[1,1,2,2]\n}",
     4, 8, "the weight's channels × groups is too large"},
    {"concat overflow",
     "graph g {\n  input %x : f32[1152921504606846976]\n"
     "  %y = concat(%x, %x, %x, %x, %x, %x, %x, %x) {axis=0} : f32[1]\n}",
     3, 8, "the concatenated axis is too large"},
    {"infinite number", "graph g {\n  param %w : f32[3] = uniform(0.0816e4966)\n}", 2, 31,
     "number 0.0816e4966 is not finite"},
    {"nan", "graph g {\n  input %x : f32[3]\n  %y = dropout(%x) {p=-nan} : f32[3]\n}", 3, 23,
     "number -nan is not finite"},
    {"missing result count",
     "graph g {\n  input %x : f32[2,3]\n  input %l : i32[2]\n"
     "  %y = softmax_cross_entropy(%x, %l) : f32[]\n}",
     4, 3, "softmax_cross_entropy has 2 results, 1 named"},
    {"numbered param (leaves are saved by name)", "graph g {\n  param %0 : f32[3] = zeros\n}", 2, 9,
     "param %0 needs a name, not a number"},
    {"bad stride",
     "graph g {\n  input %x : f32[1,1,4,4]\n  %y = max_pool(%x) {kernel=[2,2], stride=[0,2]} : "
     "f32[1,1,2,2]\n}",
     3, 8, "stride must be at least 1"},
};

TEST(Parser, MalformedTextGivesLineColumnAndReason) {
  for (const Malformed& m : kMalformed) {
    SCOPED_TRACE(m.what);
    try {
      parse_graph(m.text, "test.ir");
      ADD_FAILURE() << "parsed without an error";
    } catch (const Error& e) {
      const std::string message = e.what();
      const std::string where = "test.ir:" + std::to_string(m.line) + ":" + std::to_string(m.col) + ": ";
      EXPECT_EQ(message.rfind(where, 0), 0u) << message;
      EXPECT_NE(message.find(m.reason), std::string::npos) << message;
    }
  }
}

TEST(Parser, TruncatedTextNeverCrashes) {
  const std::string text = kConvNet;
  for (size_t length = 0; length + 1 < text.size(); ++length) {  // all but the final newline
    EXPECT_THROW(parse_graph(text.substr(0, length)), Error) << "prefix of length " << length;
  }
}

}  // namespace
}  // namespace stratum
