// Shape inference of every op, valid cases and the errors users hit.
#include <gtest/gtest.h>

#include "ir/error.h"
#include "ir/op.h"

namespace stratum {
namespace {

TensorType f32(Shape shape) { return {DType::f32, std::move(shape)}; }
TensorType i32(Shape shape) { return {DType::i32, std::move(shape)}; }

std::vector<TensorType> infer(const std::string& op, std::vector<TensorType> inputs, Attrs attrs = {}) {
  const OpDef* def = find_op(op);
  if (def == nullptr) throw std::logic_error("no op " + op);
  return def->infer(OpCall{op, inputs, complete_attrs(*def, std::move(attrs))});
}

// The message of the Error that shape inference throws, or "" if it succeeds.
std::string error_of(const std::string& op, std::vector<TensorType> inputs, Attrs attrs = {}) {
  try {
    infer(op, std::move(inputs), std::move(attrs));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_ERROR(call, reason) EXPECT_NE((call).find(reason), std::string::npos) << (call)

// What plugins declare and the loader compares: arity, and every attribute's kind and default (or none).
TEST(OpSchema, NamesTheArityAndEveryAttributeWithItsDefault) {
  EXPECT_EQ(
      op_schema(*find_op("conv2d")),
      "2..4 inputs; stride:int list=[1,1]; padding:int list=[0,0]; dilation:int list=[1,1]; groups:int=1; "
      "relu:bool=false");
  EXPECT_EQ(op_schema(*find_op("relu")), "1 input");
  EXPECT_EQ(op_schema(*find_op("concat")), "1..* inputs; axis:int=1");
  EXPECT_EQ(op_schema(*find_op("momentum_update")),
            "4..5 inputs; momentum:float; nesterov:bool=false; weight_decay:float=0.0; decoupled:bool=false");
  EXPECT_EQ(op_schema(*find_op("softmax")), "1 input; axis:int");
  EXPECT_EQ(op_schema(*find_op("avg_pool")),
            "1 input; kernel:int list; stride:int list; padding:int list=[0,0]; count_include_pad:bool=true");
}

TEST(ShapeInference, Conv2d) {
  EXPECT_EQ(infer("conv2d", {f32({2, 3, 28, 28}), f32({6, 3, 5, 5}), f32({6})}, {{"padding", Ints{2, 2}}}),
            std::vector{f32({2, 6, 28, 28})});
  EXPECT_EQ(infer("conv2d", {f32({1, 1, 224, 224}), f32({96, 1, 11, 11})},
                  {{"stride", Ints{4, 4}}, {"padding", Ints{1, 1}}}),
            std::vector{f32({1, 96, 54, 54})});
  EXPECT_EQ(infer("conv2d", {f32({1, 4, 9, 9}), f32({8, 2, 3, 3})},
                  {{"groups", int64_t{2}}, {"dilation", Ints{2, 2}}}),
            std::vector{f32({1, 8, 5, 5})});
  EXPECT_ERROR(error_of("conv2d", {f32({1, 3, 8, 8}), f32({4, 2, 3, 3})}),
               "input has 3 channels but the weight expects 2");
  EXPECT_ERROR(error_of("conv2d", {f32({1, 4, 8, 8}), f32({3, 2, 3, 3})}, {{"groups", int64_t{2}}}),
               "3 output channels do not divide into 2 groups");
  EXPECT_ERROR(error_of("conv2d", {f32({1, 1, 8, 8}), f32({4, 1, 3, 3})}, {{"stride", Ints{0, 1}}}),
               "stride must be at least 1");
  EXPECT_ERROR(error_of("conv2d", {f32({1, 1, 8, 8}), f32({4, 1, 3, 3})}, {{"stride", Ints{1}}}),
               "stride must have 2 values");
  EXPECT_ERROR(error_of("conv2d", {f32({1, 1, 2, 8}), f32({4, 1, 3, 3})}),
               "height kernel (dilated extent 3) does not fit");
  EXPECT_ERROR(error_of("conv2d", {f32({1, 1, 8, 8}), f32({4, 1, 3, 3}), f32({5})}), "bias must be f32[4]");
  EXPECT_ERROR(error_of("conv2d", {f32({1, 8, 8}), f32({4, 1, 3, 3})}), "input must have rank 4");
  EXPECT_ERROR(error_of("conv2d", {i32({1, 1, 8, 8}), f32({4, 1, 3, 3})}), "input must be f32");
}

TEST(ShapeInference, Conv2dBackward) {
  const Attrs attrs = {{"stride", Ints{2, 2}}, {"padding", Ints{1, 1}}};
  Attrs grad_input = attrs, grad_weight = attrs;
  grad_input["input_shape"] = Ints{2, 3, 9, 9};
  grad_weight["weight_shape"] = Ints{4, 3, 3, 3};
  EXPECT_EQ(infer("conv2d_grad_input", {f32({2, 4, 5, 5}), f32({4, 3, 3, 3})}, grad_input),
            std::vector{f32({2, 3, 9, 9})});
  EXPECT_EQ(infer("conv2d_grad_weight", {f32({2, 4, 5, 5}), f32({2, 3, 9, 9})}, grad_weight),
            std::vector{f32({4, 3, 3, 3})});
  EXPECT_ERROR(error_of("conv2d_grad_input", {f32({2, 4, 6, 6}), f32({4, 3, 3, 3})}, grad_input),
               "does not match the convolution's output [2,4,5,5]");
  EXPECT_ERROR(error_of("conv2d_grad_input", {f32({2, 4, 5, 5}), f32({4, 3, 3, 3})}, attrs),
               "missing attribute 'input_shape'");
  EXPECT_EQ(infer("bias_grad", {f32({2, 4, 5, 5})}), std::vector{f32({4})});
  EXPECT_EQ(infer("bias_grad", {f32({2, 7})}), std::vector{f32({7})});
  EXPECT_ERROR(error_of("bias_grad", {f32({7})}), "rank 2 or more");
}

TEST(ShapeInference, BatchNorm) {
  const TensorType c = f32({6});
  EXPECT_EQ(infer("batch_norm", {f32({4, 6, 5, 5}), c, c, c, c}),
            (std::vector{f32({4, 6, 5, 5}), c, c, c, c}));
  EXPECT_EQ(infer("batch_norm", {f32({4, 6}), c, c, c, c}, {{"training", false}}), std::vector{f32({4, 6})});
  EXPECT_ERROR(error_of("batch_norm", {f32({4, 5, 5, 5}), c, c, c, c}), "gamma must be f32[5]");
  EXPECT_ERROR(error_of("batch_norm", {f32({4, 6, 5}), c, c, c, c}), "rank 2 or 4");
  EXPECT_ERROR(error_of("batch_norm", {f32({1, 6}), c, c, c, c}), "more than one value per channel");
  EXPECT_ERROR(error_of("batch_norm", {f32({4, 6}), c, c, c, c}, {{"eps", 0.0}}), "eps must be positive");
  EXPECT_ERROR(error_of("batch_norm", {f32({4, 6}), c, c, c, c}, {{"momentum", 2}}),
               "momentum must be in [0,1]");
  EXPECT_EQ(infer("batch_norm_grad", {f32({4, 6}), f32({4, 6}), c, c, c}), (std::vector{f32({4, 6}), c, c}));
  EXPECT_ERROR(error_of("batch_norm_grad", {f32({4, 6}), f32({3, 6}), c, c, c}),
               "output gradient and input must have the same type");
}

TEST(ShapeInference, FusedOps) {
  const TensorType c = f32({4}), x = f32({2, 3, 8, 8}), w = f32({4, 3, 3, 3}), y = f32({2, 4, 8, 8});
  const Attrs same = {{"padding", Ints{1, 1}}};
  EXPECT_EQ(infer("conv2d", {x, w, c, y}, {{"padding", Ints{1, 1}}, {"relu", true}}), std::vector{y});
  EXPECT_ERROR(error_of("conv2d", {x, w, c, f32({2, 4, 5, 5})}),
               "residual must be the output's type f32[2,4,6,6]");
  EXPECT_EQ(infer("conv_bn", {x, w, c, c, c, c, c}, same), (std::vector{y, y, c, c, c, c}));
  EXPECT_ERROR(error_of("conv_bn", {x, w, c, f32({3}), c, c, c}, same), "gamma must be f32[4]");
  EXPECT_EQ(infer("conv_bn_grad", {y, x, w, y, c, c, c, c}, same), (std::vector{x, w, c, c, c}));
  EXPECT_ERROR(error_of("conv_bn_grad", {y, x, w, f32({2, 4, 6, 6}), c, c, c, c}, same),
               "must be the convolution's output f32[2,4,8,8]");
  EXPECT_EQ(infer("fold_batch_norm", {w, c, c, c, c, c}), (std::vector{w, c}));
  EXPECT_ERROR(error_of("fold_batch_norm", {w, f32({3}), c, c, c, c}), "bias must be f32[4]");
  const TensorType a = f32({2, 3, 5, 5}), b = f32({2, 1, 5, 5}), ab = f32({2, 4, 5, 5});
  EXPECT_EQ(infer("concat_batch_norm", {a, b, c, c, c, c}), std::vector{ab});
  EXPECT_ERROR(error_of("concat_batch_norm", {a, f32({2, 1, 5, 4}), c, c, c, c}),
               "input 1 is f32[2,1,5,4], which does not concatenate with f32[2,3,5,5] along axis 1");
  EXPECT_ERROR(error_of("concat_batch_norm", {a, b, c, c, f32({3}), c}), "mean must be f32[4]");
  const TensorType channels = f32({3});
  EXPECT_EQ(infer("batch_norm_grad", {x, x, channels, channels, channels, channels}, {{"relu", true}}),
            (std::vector{x, channels, channels}));
  EXPECT_ERROR(error_of("batch_norm_grad", {x, x, channels, channels, channels}, {{"relu", true}}),
               "beta (input 5) is given exactly when relu is set");
}

TEST(ShapeInference, Pooling) {
  const Attrs pool = {{"kernel", Ints{3, 3}}, {"stride", Ints{2, 2}}, {"padding", Ints{1, 1}}};
  EXPECT_EQ(infer("max_pool", {f32({2, 64, 48, 48})}, pool), std::vector{f32({2, 64, 24, 24})});
  EXPECT_EQ(infer("avg_pool", {f32({2, 6, 28, 28})}, {{"kernel", Ints{2, 2}}, {"stride", Ints{2, 2}}}),
            std::vector{f32({2, 6, 14, 14})});
  EXPECT_EQ(infer("max_pool", {f32({1, 96, 54, 54})}, {{"kernel", Ints{3, 3}}, {"stride", Ints{2, 2}}}),
            std::vector{f32({1, 96, 26, 26})});
  EXPECT_ERROR(error_of("max_pool", {f32({2, 6, 28, 28})}, {{"kernel", Ints{3, 3}}}),
               "missing attribute 'stride'");
  EXPECT_ERROR(error_of("max_pool", {f32({2, 6, 2, 2})}, {{"kernel", Ints{3, 3}}, {"stride", Ints{1, 1}}}),
               "does not fit");
  EXPECT_ERROR(error_of("avg_pool", {f32({2, 6, 8, 8})},
                        {{"kernel", Ints{2, 2}}, {"stride", Ints{1, 1}}, {"padding", Ints{2, 2}}}),
               "at most half the kernel");
  EXPECT_EQ(infer("max_pool_grad", {f32({2, 64, 24, 24}), f32({2, 64, 48, 48})}, pool),
            std::vector{f32({2, 64, 48, 48})});
  EXPECT_ERROR(error_of("max_pool_grad", {f32({2, 64, 23, 24}), f32({2, 64, 48, 48})}, pool),
               "output gradient must be f32[2,64,24,24]");
  Attrs grad = pool;
  grad["input_shape"] = Ints{2, 64, 48, 48};
  EXPECT_EQ(infer("avg_pool_grad", {f32({2, 64, 24, 24})}, grad), std::vector{f32({2, 64, 48, 48})});
  grad["count_include_pad"] = false;  // changes the divisor, not the shapes
  EXPECT_EQ(infer("avg_pool_grad", {f32({2, 64, 24, 24})}, grad), std::vector{f32({2, 64, 48, 48})});
  Attrs exclude = pool;
  exclude["count_include_pad"] = false;
  EXPECT_EQ(infer("avg_pool", {f32({2, 64, 48, 48})}, exclude), std::vector{f32({2, 64, 24, 24})});
  EXPECT_EQ(infer("avg_pool_sigmoid_grad", {f32({2, 64, 48, 48}), f32({2, 64, 24, 24})}, pool),
            std::vector{f32({2, 64, 48, 48})});
  EXPECT_ERROR(error_of("avg_pool_sigmoid_grad", {f32({2, 64, 48, 48}), f32({2, 64, 23, 24})}, pool),
               "output gradient must be f32[2,64,24,24]");
  EXPECT_EQ(infer("global_avg_pool", {f32({2, 512, 3, 3})}), std::vector{f32({2, 512, 1, 1})});
  EXPECT_EQ(infer("global_avg_pool_grad", {f32({2, 512, 1, 1})}, {{"input_shape", Ints{2, 512, 3, 3}}}),
            std::vector{f32({2, 512, 3, 3})});
  EXPECT_ERROR(error_of("global_avg_pool_grad", {f32({2, 512})}, {{"input_shape", Ints{2, 512, 3, 3}}}),
               "output gradient must be f32[2,512,1,1]");
}

TEST(ShapeInference, Elementwise) {
  for (const char* op : {"relu", "sigmoid"}) EXPECT_EQ(infer(op, {f32({2, 3})}), std::vector{f32({2, 3})});
  for (const char* op : {"add", "relu_grad", "sigmoid_grad"}) {
    EXPECT_EQ(infer(op, {f32({2, 3}), f32({2, 3})}), std::vector{f32({2, 3})});
    EXPECT_ERROR(error_of(op, {f32({2, 3}), f32({3, 2})}), "both inputs must have the same type");
  }
  EXPECT_ERROR(error_of("relu", {i32({2})}), "input must be f32");
  EXPECT_EQ(infer("dropout", {f32({4, 8}), i32({})}), std::vector{f32({4, 8})});
  EXPECT_EQ(infer("dropout_grad", {f32({4, 8}), i32({})}), std::vector{f32({4, 8})});
  EXPECT_ERROR(error_of("dropout", {f32({4, 8}), i32({})}, {{"p", 1.0}}), "p must be in [0,1)");
  EXPECT_ERROR(error_of("dropout", {f32({4, 8}), f32({})}), "key must be i32[]");
}

TEST(ShapeInference, Softmax) {
  for (const Shape& shape : {Shape{7}, Shape{2, 3}, Shape{2, 3, 4}, Shape{2, 3, 4, 5}}) {
    for (int64_t axis = 0; axis < int64_t(shape.size()); ++axis) {
      EXPECT_EQ(infer("softmax", {f32(shape)}, {{"axis", axis}}), std::vector{f32(shape)});
      EXPECT_EQ(infer("softmax_grad", {f32(shape), f32(shape)}, {{"axis", axis}}), std::vector{f32(shape)});
    }
  }
  EXPECT_ERROR(error_of("softmax", {f32({2, 3})}), "missing attribute 'axis'");
  EXPECT_ERROR(error_of("softmax", {f32({2, 3})}, {{"axis", int64_t{2}}}),
               "axis 2 is out of range for f32[2,3]");
  EXPECT_ERROR(error_of("softmax", {f32({2, 3})}, {{"axis", int64_t{-1}}}), "axis -1 is out of range");
  EXPECT_ERROR(error_of("softmax", {f32({})}, {{"axis", int64_t{0}}}), "axis 0 is out of range for f32[]");
  EXPECT_ERROR(error_of("softmax", {i32({2, 3})}, {{"axis", int64_t{1}}}), "input must be f32");
  EXPECT_ERROR(error_of("softmax_grad", {f32({2, 3}), f32({3, 2})}, {{"axis", int64_t{1}}}),
               "output gradient and output must have the same type");
}

TEST(ShapeInference, ShapeOps) {
  EXPECT_EQ(infer("flatten", {f32({2, 16, 5, 5})}), std::vector{f32({2, 400})});
  EXPECT_EQ(infer("reshape", {f32({2, 400})}, {{"shape", Ints{2, 16, 5, 5}}}),
            std::vector{f32({2, 16, 5, 5})});
  EXPECT_ERROR(error_of("reshape", {f32({2, 400})}, {{"shape", Ints{2, 16, 5}}}),
               "cannot reshape f32[2,400] (800 elements)");
  EXPECT_EQ(infer("concat", {f32({2, 64, 12, 12}), f32({2, 128, 12, 12}), f32({2, 32, 12, 12})}),
            std::vector{f32({2, 224, 12, 12})});
  EXPECT_ERROR(error_of("concat", {f32({2, 64, 12, 12}), f32({2, 64, 11, 12})}),
               "input 1 is f32[2,64,11,12], which does not concatenate");
  EXPECT_ERROR(error_of("concat", {f32({2, 64})}, {{"axis", int64_t{2}}}), "axis 2 is out of range");
  EXPECT_EQ(infer("slice", {f32({2, 224, 3, 3})},
                  {{"axis", int64_t{1}}, {"begin", int64_t{64}}, {"end", int64_t{192}}}),
            std::vector{f32({2, 128, 3, 3})});
  EXPECT_ERROR(
      error_of("slice", {f32({2, 8})}, {{"axis", int64_t{1}}, {"begin", int64_t{4}}, {"end", int64_t{9}}}),
      "range [4,9) is empty or outside axis 1");
}

TEST(ShapeInference, Linear) {
  EXPECT_EQ(infer("linear", {f32({256, 400}), f32({120, 400}), f32({120})}), std::vector{f32({256, 120})});
  EXPECT_ERROR(error_of("linear", {f32({256, 401}), f32({120, 400})}),
               "input has 401 features but the weight");
  EXPECT_ERROR(error_of("linear", {f32({256, 16, 5, 5}), f32({120, 400})}), "input must have rank 2");
  EXPECT_EQ(infer("linear_grad_input", {f32({256, 120}), f32({120, 400})}), std::vector{f32({256, 400})});
  EXPECT_EQ(infer("linear_grad_weight", {f32({256, 120}), f32({256, 400})}), std::vector{f32({120, 400})});
  EXPECT_ERROR(error_of("linear_grad_weight", {f32({256, 120}), f32({128, 400})}), "differ in batch");
}

TEST(ShapeInference, LossOptimizersAndFill) {
  EXPECT_EQ(infer("softmax_cross_entropy", {f32({8, 10}), i32({8})}), (std::vector{f32({}), i32({})}));
  EXPECT_ERROR(error_of("softmax_cross_entropy", {f32({8, 10}), f32({8})}), "labels must be i32[8]");
  EXPECT_EQ(infer("softmax_cross_entropy_grad", {f32({}), f32({8, 10}), i32({8})}),
            std::vector{f32({8, 10})});
  const TensorType w = f32({6, 1, 5, 5}), lr = f32({});
  EXPECT_EQ(infer("sgd_update", {w, w, lr}), std::vector{w});
  EXPECT_EQ(infer("adam_update", {w, w, w, w, lr, lr, lr}), (std::vector{w, w, w}));
  EXPECT_ERROR(error_of("sgd_update", {w, w, f32({1})}), "input 2 must be f32[], got f32[1]");
  EXPECT_ERROR(error_of("sgd_update", {w, f32({6}), lr}), "input 1 must be the parameter's type");
  EXPECT_ERROR(error_of("sgd_update", {w, w, lr}, {{"weight_decay", -1.0}}),
               "weight_decay must be at least 0");
  EXPECT_ERROR(error_of("momentum_update", {w, w, w, lr}, {{"momentum", 1.5}}), "momentum must be in [0,1)");
  EXPECT_ERROR(error_of("momentum_update", {w, w, w, lr}), "missing attribute 'momentum'");
  EXPECT_ERROR(error_of("adam_update", {w, w, w, w, lr, lr, f32({2})}), "input 6 must be f32[]");
  EXPECT_ERROR(error_of("global_norm_scale", {w}, {{"max_norm", 0.0}}), "max_norm must be positive");
  EXPECT_EQ(infer("fill", {}, {{"value", 1.0}}), std::vector{f32({})});
}

// Every op's examples (OpDef::examples, which the conformance and gradient tests run too) infer; an op
// without one fails here by name.
TEST(ShapeInference, EveryOpHasExamplesThatInfer) {
  for (const OpDef* op : all_ops()) {
    EXPECT_FALSE(op->examples.empty()) << op->name << " has no examples (OpDef::examples)";
    for (const OpExample& example : op->examples) {
      std::vector<TensorType> inputs;
      for (const ExampleInput& input : example.inputs) inputs.push_back(input.type);
      EXPECT_EQ(error_of(op->name, inputs, example.attrs), "") << example_label(*op, example);
    }
  }
}

TEST(Attributes, CheckedAgainstTheSpec) {
  const OpDef& conv = *find_op("conv2d");
  EXPECT_ERROR(error_of("conv2d", {f32({1, 1, 8, 8}), f32({4, 1, 3, 3})}, {{"groups", 1.5}}),
               "attribute 'groups' must be int, got 1.5");
  EXPECT_THROW(complete_attrs(conv, {{"stides", Ints{1, 1}}}), Error);
  EXPECT_EQ(std::get<Ints>(complete_attrs(conv, {}).at("padding")), (Ints{0, 0}));
}

}  // namespace
}  // namespace stratum
