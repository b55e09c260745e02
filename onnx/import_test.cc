// The importer on small models written in ONNX's text format: what each becomes, its values, and a clear
// error for each kind of bad input.
#include <gtest/gtest.h>
#include <onnx/defs/parser.h>

#include "backends/reference/interpreter.h"
#include "backends/testing.h"
#include "onnx/import.h"
#include "passes/dce.h"

namespace stratum {
namespace {

std::string model_bytes(const std::string& text) {
  onnx::ModelProto model;
  const onnx::Status status = onnx::OnnxParser::Parse(model, text.c_str());
  if (!status.IsOK()) throw std::runtime_error("bad test model: " + status.ErrorMessage());
  return model.SerializeAsString();
}

OnnxModel model(const std::string& text) { return parse_onnx(model_bytes(text), "test.onnx"); }

std::string header(int opset) {
  return "<ir_version: 8, opset_import: [\"\" : " + std::to_string(opset) + "]>\n";
}

// Imports the model for inference with its declared input types (batch `batch`) and runs it on the
// reference backend.
struct ImportedRun {
  std::unique_ptr<Graph> graph = std::make_unique<Graph>("test");
  std::vector<Tensor> outputs;
};
ImportedRun run_model(const OnnxModel& m, const std::vector<std::vector<float>>& inputs, int64_t batch = 0) {
  ImportedRun run;
  Layers layers(*run.graph, /*training=*/false);
  std::vector<Value*> values;
  std::map<std::string, Tensor> feeds;
  for (const TensorType& type : onnx_input_types(m, batch)) {
    values.push_back(run.graph->add_input("in" + std::to_string(values.size()), type));
    Tensor t(type);
    std::copy(inputs[feeds.size()].begin(), inputs[feeds.size()].end(), t.f32());
    feeds[values.back()->name()] = t;
  }
  Store store;
  for (Value* out : import_onnx(m, layers, values, store)) run.graph->add_output(out);
  Interpreter interpreter(*run.graph);
  interpreter.run(feeds, store);
  run.outputs = interpreter.outputs();
  return run;
}

std::vector<float> values(const Tensor& t) { return {t.f32(), t.f32() + t.size()}; }

int count_nodes(const Graph& graph, const std::string& op) {
  int n = 0;
  for (const auto& node : graph.nodes()) n += node->op_name() == op;
  return n;
}

TEST(OnnxImportTest, GemmWithTransposedWeightAndBiasIsOneLinear) {
  const OnnxModel m = model(header(18) + R"(
    g (float[N, 3] x) => (float[N, 2] y) <float[2, 3] w = {1, 2, 3, 4, 5, 6}, float[2] b = {0.5, -1}> {
      y = Gemm <transB = 1> (x, w, b)
    })");
  const ImportedRun run = run_model(m, {{1, 2, 3, -1, 0, 1}}, /*batch=*/2);
  EXPECT_EQ(values(run.outputs[0]), (std::vector<float>{14.5, 31, 2.5, 1}));
  EXPECT_EQ(count_nodes(*run.graph, "linear"), 1);
}

TEST(OnnxImportTest, GemmScalesAndTransposesAConstantWeightAtImport) {
  const OnnxModel m = model(header(11) + R"(
    g (float[1, 2] x) => (float[1, 2] y) <float[2, 2] w = {1, 2, 3, 4}, float[1] c = {10}> {
      y = Gemm <alpha = 2.0, beta = 0.5> (x, w, c)
    })");
  // 2·x·w + 0.5·10 with x = [1, 1]: [2·4 + 5, 2·6 + 5]
  EXPECT_EQ(values(run_model(m, {{1, 1}}).outputs[0]), (std::vector<float>{13, 17}));
}

TEST(OnnxImportTest, MatMulThenAddOfABiasFoldsIntoOneLinear) {
  const OnnxModel m = model(header(13) + R"(
    g (float[N, 2] x) => (float[N, 2] y) <float[2, 2] w = {1, 2, 3, 4}, float[2] b = {1, -1}> {
      h = MatMul (x, w)
      y = Add (h, b)
    })");
  const ImportedRun run = run_model(m, {{1, 0}}, 1);
  EXPECT_EQ(values(run.outputs[0]), (std::vector<float>{2, 1}));
  EXPECT_EQ(count_nodes(*run.graph, "linear"), 1);
  EXPECT_EQ(count_nodes(*run.graph, "add"), 0);
}

TEST(OnnxImportTest, ReshapesReadThroughEachOtherAndVanishWhenTheyChangeNothing) {
  const OnnxModel m = model(header(13) + R"(
    g (float[2, 3, 1, 1] x) => (float[2, 3] y) <int64[4] s = {2, 3, 1, 1}> {
      a = Flatten (x)
      b = Reshape (a, s)
      y = Flatten (b)
    })");
  const ImportedRun run = run_model(m, {{1, 2, 3, 4, 5, 6}});
  EXPECT_EQ(values(run.outputs[0]), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  DcePass().run(*run.graph);
  EXPECT_EQ(count_nodes(*run.graph, "reshape") + count_nodes(*run.graph, "flatten"), 1);
}

TEST(OnnxImportTest, ADilatedGroupedConvKeepsItsDilationAndGroups) {
  const OnnxModel m = model(header(13) + R"(
    g (float[1, 2, 5, 5] x) => (float[1, 2, 3, 3] y) <float[2, 1, 2, 2] w = {1, 1, 1, 1, 1, 0, 0, -1}> {
      y = Conv <dilations = [2, 2], group = 2> (x, w)
    })");
  std::vector<float> x(50);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i);
  const ImportedRun run = run_model(m, {x});
  // channel 0: x[i,j] + x[i,j+2] + x[i+2,j] + x[i+2,j+2]; channel 1 (x + 25): x[i,j] - x[i+2,j+2]
  EXPECT_EQ(run.outputs[0].f32()[0], 0 + 2 + 10 + 12);
  EXPECT_EQ(run.outputs[0].f32()[9], 25 - 37);
  EXPECT_EQ(run.graph->nodes().front()->attr_ints("dilation"), (Ints{2, 2}));
  EXPECT_EQ(run.graph->nodes().front()->attr_int("groups"), 2);
}

TEST(OnnxImportTest, BatchNormalizationKeepsItsStatisticsAsState) {
  const OnnxModel m = model(header(9) + R"(
    g (float[1, 2] x) => (float[1, 2] y)
      <float[2] s = {2, 1}, float[2] b = {0, 1}, float[2] mean = {1, 0}, float[2] var = {4, 1}> {
      y = BatchNormalization (x, s, b, mean, var)
    })");
  const ImportedRun run = run_model(m, {{5, 3}});
  EXPECT_NEAR(run.outputs[0].f32()[0], 4, 3e-5);  // 2·(5-1)/2 + 0, eps 1e-5
  EXPECT_NEAR(run.outputs[0].f32()[1], 4, 3e-5);  // 1·3/1 + 1
  EXPECT_EQ(run.graph->find("mean")->kind(), ValueKind::kState);
  EXPECT_EQ(run.graph->find("s")->kind(), ValueKind::kParam);
}

// Each bad input is an Error whose message has every one of `parts`.
void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  const std::string message = testing::error_of(f);
  for (const std::string& part : parts) EXPECT_NE(message.find(part), std::string::npos) << message;
}

// What export writes for merge_pointwise's slices: one axis, constant bounds; bounds past the axis clamp,
// negative ones count from its end.
TEST(OnnxImportTest, SliceOfOneAxisIsStratumsSlice) {
  const OnnxModel m = model(header(13) + R"(
    g (float[1, 4, 1, 1] x) => (float[1, 2, 1, 1] y, float[1, 1, 1, 1] z)
        <int64[1] s = {1}, int64[1] e = {3}, int64[1] a = {1}, int64[1] s2 = {-1}, int64[1] e2 = {99}> {
      y = Slice (x, s, e, a)
      z = Slice (x, s2, e2, a)
    })");
  const ImportedRun run = run_model(m, {{1, 2, 3, 4}});
  EXPECT_EQ(count_nodes(*run.graph, "slice"), 2);
  EXPECT_EQ(values(run.outputs[0]), (std::vector<float>{2, 3}));
  EXPECT_EQ(values(run.outputs[1]), (std::vector<float>{4}));
  const OnnxModel stepped = model(header(13) + R"(
    g (float[1, 4] x) => (float[1, 2] y) <int64[1] s = {0}, int64[1] e = {4}, int64[1] a = {1}, int64[1] st = {2}> {
      y = Slice (x, s, e, a, st)
    })");
  expect_error(
      [&] {
        run_model(stepped, {{1, 2, 3, 4}});
      },
      {"node 0 (Slice, opset 13)", "steps [2]: Stratum slices at step 1"});
}

TEST(OnnxImportTest, AnUnsupportedOpNamesTheNodeItsOpsetAndTheSupportedOps) {
  const OnnxModel m = model(header(13) + R"(
    g (float[1, 2] x) => (float[1, 2] y) {
      y = LeakyRelu (x)
    })");
  expect_error(
      [&] {
        run_model(m, {{1, 2}});
      },
      {"test.onnx: node 0 (LeakyRelu, opset 13)", "LeakyRelu is not supported",
       "Stratum imports Add, AveragePool, BatchNormalization", "Sigmoid, Slice, Softmax"});
}

TEST(OnnxImportTest, WhatStratumCannotRepresentIsAnErrorNamingTheAttribute) {
  const OnnxModel asymmetric = model(header(13) + R"(
    g (float[1, 1, 4, 4] x) => (float[1, 1, 4, 4] y) <float[1, 1, 2, 2] w = {1, 1, 1, 1}> {
      y = Conv <pads = [1, 1, 0, 0]> (x, w)
    })");
  expect_error([&] { run_model(asymmetric, {std::vector<float>(16)}); },
               {"node 0 (Conv, opset 13)", "padding [1,1] before and [0,0] after"});
  const OnnxModel computed_shape = model(header(13) + R"(
    g (float[2, 2] x, int64[2] s) => (float[4, 1] y) {
      y = Reshape (x, s)
    })");
  expect_error([&] { run_model(computed_shape, {{1, 2, 3, 4}, {4, 1}}); }, {"input 's' is INT64, not FLOAT"});
  const OnnxModel text = model(header(13) + R"(
    g (float[1, 2] x) => (float[1, 2] y) {
      t = Constant <value_string = "two"> ()
      y = Relu (x)
    })");
  expect_error(
      [&] {
        run_model(text, {{1, 2}});
      },
      {"node 0 (Constant, opset 13): attribute 'value_string' is not supported; Stratum's Constant "
       "takes value, value_float, value_floats, value_int, value_ints"});
  const OnnxModel dilated = model(header(13) + R"(
    g (float[1, 1, 4, 4] x) => (float[1, 1, 2, 2] y) {
      y = MaxPool <kernel_shape = [2, 2], dilations = [2, 2]> (x)
    })");
  expect_error([&] { run_model(dilated, {std::vector<float>(16)}); },
               {"node 0 (MaxPool, opset 13)", "dilations [2,2] are not supported"});
}

TEST(OnnxImportTest, BadFilesAreErrorsNamingTheFile) {
  const std::string good = model_bytes(header(13) + "g (float[1, 2] x) => (float[1, 2] y) { y = Relu (x) }");
  expect_error([&] { parse_onnx(good.substr(0, good.size() / 2), "half.onnx"); },
               {"half.onnx: not an ONNX model (truncated, or another format)"});
  expect_error([&] { parse_onnx("GIF89a not a model", "picture.onnx"); },
               {"picture.onnx: not an ONNX model"});
  expect_error([&] { read_onnx("/nonexistent/model.onnx"); }, {"/nonexistent/model.onnx: cannot open"});
  expect_error([&] { model(header(8) + "g (float[1, 2] x) => (float[1, 2] y) { y = Relu (x) }"); },
               {"test.onnx: opset 8 is not supported; Stratum imports opsets 9 to 18"});
  expect_error([&] { model(header(19) + "g (float[1, 2] x) => (float[1, 2] y) { y = Relu (x) }"); },
               {"test.onnx: opset 19 is not supported; Stratum imports opsets 9 to 18"});
  expect_error(
      [&] {
        run_model(model(header(13) + "g (float[1, 2] x) => (float[1, 3] y) { y = Relu (x) }"), {{1, 2}});
      },
      {"test.onnx: output 'y' is [1,2] as imported, but the model declares it [1,3]"});
}

TEST(OnnxImportTest, DynamicDimensionsOtherThanTheBatchAreErrors) {
  const OnnxModel m = model(header(13) + "g (float[N, C] x) => (float[N, C] y) { y = Relu (x) }");
  expect_error([&] { onnx_input_types(m, 4); }, {"input 'x' has the dynamic dimension 1 'C'"});
  EXPECT_EQ(
      onnx_input_types(model(header(13) + "g (float[N, 3] x) => (float[N, 3] y) { y = Relu (x) }"), 4)[0],
      (TensorType{DType::f32, {4, 3}}));
}

TEST(OnnxImportTest, AnInitializerOfTheWrongSizeIsAnErrorNamingIt) {
  onnx::ModelProto proto;
  proto.ParseFromString(model_bytes(header(13) + R"(
    g (float[1, 2] x) => (float[1, 2] y) <float[2] b = {1, 2}> {
      y = Add (x, b)
    })"));
  proto.mutable_graph()->mutable_initializer(0)->add_float_data(3);
  expect_error(
      [&] {
        run_model(parse_onnx(proto.SerializeAsString(), "test.onnx"), {{1, 2}});
      },
      {"test.onnx: node 0 (Add, opset 13): tensor 'b' has dims [2] (2 elements) but holds 3 elements"});
}

}  // namespace
}  // namespace stratum
