#include "onnx/export.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "backends/testing.h"
#include "ir/builder.h"
#include "nets/nets.h"
#include "train/files.h"
#include "train/step.h"

namespace stratum {
namespace {

using testing::error_of;

std::unique_ptr<Graph> inference_graph(const std::string& net, bool fusion, int64_t batch = 2) {
  return build_step({.net = &find_net(net), .batch = batch, .training = false, .fusion = fusion}, {});
}

std::vector<std::string> op_types(const onnx::ModelProto& model) {
  std::vector<std::string> ops;
  for (const onnx::NodeProto& node : model.graph().node()) ops.push_back(node.op_type());
  return ops;
}

// The model's input x [N,1,H,W] and output logits [N,10], N symbolic.
void expect_interface(const onnx::ModelProto& model, int64_t size) {
  ASSERT_EQ(model.graph().input_size(), 1);
  ASSERT_EQ(model.graph().output_size(), 1);
  const auto& x = model.graph().input(0).type().tensor_type().shape();
  const auto& logits = model.graph().output(0).type().tensor_type().shape();
  EXPECT_EQ(model.graph().input(0).name(), "x");
  EXPECT_EQ(model.graph().output(0).name(), "logits");
  ASSERT_EQ(x.dim_size(), 4);
  ASSERT_EQ(logits.dim_size(), 2);
  EXPECT_EQ(x.dim(0).dim_param(), "N");
  EXPECT_EQ(logits.dim(0).dim_param(), "N");
  EXPECT_EQ(x.dim(1).dim_value(), 1);
  EXPECT_EQ(x.dim(2).dim_value(), size);
  EXPECT_EQ(logits.dim(1).dim_value(), 10);
}

TEST(Export, EveryNetFusedOrNotPassesTheChecker) {
  for (const NetDef& net : all_nets()) {
    for (bool fusion : {false, true}) {
      SCOPED_TRACE(net.name + (fusion ? " fused" : " unfused"));
      auto graph = inference_graph(net.name, fusion, 1);
      const onnx::ModelProto model = export_onnx(*graph, init_store(*graph, 1));
      EXPECT_EQ(model.opset_import(0).version(), 17);
      EXPECT_EQ(model.ir_version(), 8);
      EXPECT_EQ(model.producer_name(), "stratum");
      expect_interface(model, net.recipe.input_size);
      EXPECT_EQ(error_of([&] { check_onnx(model); }), "");
    }
  }
}

TEST(Export, LeNetIsTheBookSequence) {
  const std::vector<std::string> lenet = {"Conv",    "Sigmoid",     "AveragePool", "Conv",
                                          "Sigmoid", "AveragePool", "Flatten",     "Gemm",
                                          "Sigmoid", "Gemm",        "Sigmoid",     "Gemm"};
  for (bool fusion : {false, true}) {
    auto graph = inference_graph("lenet", fusion);
    EXPECT_EQ(op_types(export_onnx(*graph, init_store(*graph, 0))), lenet);
  }
}

// Fused, each batch norm is folded into its conv's weights; the export writes the batch norm back.
TEST(Export, FoldedBatchNormIsConvThenBatchNormalization) {
  const std::vector<std::string> bn_lenet = {"Conv",
                                             "BatchNormalization",
                                             "Sigmoid",
                                             "AveragePool",
                                             "Conv",
                                             "BatchNormalization",
                                             "Sigmoid",
                                             "AveragePool",
                                             "Flatten",
                                             "Gemm",
                                             "BatchNormalization",
                                             "Sigmoid",
                                             "Gemm",
                                             "BatchNormalization",
                                             "Sigmoid",
                                             "Gemm"};
  for (bool fusion : {false, true}) {
    auto graph = inference_graph("bn_lenet", fusion);
    EXPECT_EQ(op_types(export_onnx(*graph, init_store(*graph, 0))), bn_lenet);
  }
}

// A fused residual conv with relu is Conv, BatchNormalization, Add, Relu.
TEST(Export, FusedResidualIsConvBatchNormAddRelu) {
  auto graph = inference_graph("resnet18", true, 1);
  const std::vector<std::string> ops = op_types(export_onnx(*graph, init_store(*graph, 0)));
  const std::vector<std::string> residual = {"Conv", "BatchNormalization", "Add", "Relu"};
  EXPECT_NE(std::search(ops.begin(), ops.end(), residual.begin(), residual.end()), ops.end());
}

TEST(Export, InitializersAreTheStoresTensors) {
  auto graph = inference_graph("bn_lenet", true);
  const Store store = init_store(*graph, 7);
  const onnx::ModelProto model = export_onnx(*graph, store);
  ASSERT_EQ(static_cast<size_t>(model.graph().initializer_size()), store.size());  // every param and state
  for (const onnx::TensorProto& init : model.graph().initializer()) {
    SCOPED_TRACE(init.name());
    const Tensor& tensor = store.at(init.name());
    EXPECT_EQ(init.data_type(), onnx::TensorProto::FLOAT);
    EXPECT_EQ(std::vector<int64_t>(init.dims().begin(), init.dims().end()), tensor.shape());
    ASSERT_EQ(init.raw_data().size(), static_cast<size_t>(tensor.type().bytes()));
    EXPECT_EQ(std::memcmp(init.raw_data().data(), tensor.data(), init.raw_data().size()), 0);
  }
}

TEST(Export, MissingWeightIsNamed) {
  auto graph = inference_graph("lenet", false);
  Store store = init_store(*graph, 0);
  store.erase("fc2.bias");
  EXPECT_NE(error_of([&] { export_onnx(*graph, store); }).find("%fc2.bias"), std::string::npos);
}

// x [2,1,4,4] -> `body` -> softmax_cross_entropy, with a linear weight %w [10,16].
template <typename Body>
std::unique_ptr<Graph> small_graph(Body body) {
  auto graph = std::make_unique<Graph>("small");
  Builder b(*graph);
  Value* x = graph->add_input("x", {DType::f32, {2, 1, 4, 4}});
  Value* labels = graph->add_input("labels", {DType::i32, {2}});
  Value* w = graph->add_param("w", {DType::f32, {10, 16}}, {Init::kXavierUniform});
  b.softmax_cross_entropy(body(b, x, w), labels);
  return graph;
}

// Inference dropout is the identity; as the last op it leaves an Identity into `logits`. A reshape keeps
// the batch symbolic with a 0 in its shape.
TEST(Export, DropoutIsIdentityAndReshapeCopiesTheBatch) {
  auto graph = small_graph([](Builder& b, Value* x, Value* w) {
    Value* key = b.graph().add_input("step", {DType::i32, {}});
    return b.dropout(b.linear(b.reshape(x, {2, 16}), w), key, 0.5, 1, /*training=*/false);
  });
  const onnx::ModelProto model = export_onnx(*graph, init_store(*graph, 0));
  EXPECT_EQ(op_types(model), (std::vector<std::string>{"Reshape", "Gemm", "Identity"}));
  const onnx::TensorProto& shape = model.graph().initializer(0);
  EXPECT_EQ(std::vector<int64_t>(shape.int64_data().begin(), shape.int64_data().end()),
            (std::vector<int64_t>{0, 16}));
  EXPECT_EQ(error_of([&] { check_onnx(model); }), "");
}

// What the importer brings in beyond the built-in nets' ops exports too: avg_pool that leaves the padding
// out of its divisor, softmax.
TEST(Export, AveragePoolExcludingPaddingAndSoftmax) {
  auto graph = small_graph([](Builder& b, Value* x, Value* w) {
    const PoolAttrs pool{{3, 3}, {1, 1}, {1, 1}, /*count_include_pad=*/false};
    return b.softmax(b.linear(b.flatten(b.avg_pool(x, pool)), w), 1);
  });
  const onnx::ModelProto model = export_onnx(*graph, init_store(*graph, 0));
  EXPECT_EQ(op_types(model), (std::vector<std::string>{"AveragePool", "Flatten", "Gemm", "Softmax"}));
  for (const onnx::AttributeProto& a : model.graph().node(0).attribute()) {
    if (a.name() == "count_include_pad") {
      EXPECT_EQ(a.i(), 0);
    }
  }
  EXPECT_EQ(error_of([&] { check_onnx(model); }), "");
}

TEST(Export, UnexportableNodeIsNamedWithTheReason) {
  auto graph = small_graph([](Builder& b, Value* x, Value* w) {
    Value* h = b.graph()
                   .add_node("slice", {b.flatten(x)},
                             {{"axis", int64_t{0}}, {"begin", int64_t{0}}, {"end", x->type().shape[0]}})
                   ->output(0);
    return b.linear(h, w);
  });
  const std::string error = error_of([&] { export_onnx(*graph, init_store(*graph, 0)); });
  EXPECT_NE(error.find("cannot export node 1 (%1 = slice)"), std::string::npos) << error;
  EXPECT_NE(error.find("slices the batch dim"), std::string::npos) << error;
}

TEST(Export, TrainingGraphIsRefused) {
  auto graph = build_net(find_net("bn_lenet"), 2, /*training=*/true);
  const std::string error = error_of([&] { export_onnx(*graph, init_store(*graph, 0)); });
  EXPECT_NE(error.find("= batch_norm): batch_norm in training mode"), std::string::npos) << error;
}

TEST(Export, CheckRejectsWhatOnnxRejects) {
  auto graph = inference_graph("lenet", false);
  const onnx::ModelProto model = export_onnx(*graph, init_store(*graph, 0));
  onnx::ModelProto unknown_op = model;
  unknown_op.mutable_graph()->mutable_node(1)->set_op_type("NoSuchOp");
  EXPECT_NE(error_of([&] { check_onnx(unknown_op); }).find("the ONNX checker rejects the model"),
            std::string::npos);
  onnx::ModelProto untransposed = model;  // fc3's Gemm then gives [N,84], not the declared [N,10]
  untransposed.mutable_graph()->mutable_node(11)->mutable_attribute(0)->set_i(0);
  const std::string error = error_of([&] { check_onnx(untransposed); });
  EXPECT_NE(error.find("ONNX shape inference rejects the model"), std::string::npos) << error;
}

TEST(Export, WritesTheModel) {
  auto graph = inference_graph("lenet", true);
  const onnx::ModelProto model = export_onnx(*graph, init_store(*graph, 0));
  const std::string path = testing::temp_path("lenet.onnx");
  const int64_t bytes = write_onnx(model, path);
  onnx::ModelProto read;
  ASSERT_TRUE(read.ParseFromString(read_file(path)));
  EXPECT_EQ(static_cast<int64_t>(read_file(path).size()), bytes);
  EXPECT_EQ(read.SerializeAsString(), model.SerializeAsString());
}

}  // namespace
}  // namespace stratum
