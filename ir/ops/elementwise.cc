// Elementwise ops: relu, sigmoid, add, dropout, their backward ops, and cast.
#include "ir/ops/common.h"

namespace stratum::ops {

namespace {

const OpTraits kElementwise{.elementwise = true, .inplace = true};

std::vector<TensorType> infer_unary(const OpCall& call) {
  expect_float(call.inputs[0], "input");
  return {call.inputs[0]};
}

// (a, b) of one type -> that type.
std::vector<TensorType> infer_binary(const OpCall& call) {
  expect_float(call.inputs[0], "input");
  expect_same_type(call.inputs[0], call.inputs[1], "both inputs");
  return {call.inputs[0]};
}

// relu and sigmoid differentiate through their output y: (dy, y) -> dx.
template <const char* kGradOp>
std::vector<Value*> grad_from_output(const GradCall& call) {
  return {emit(call.graph, kGradOp, {call.output_grads[0], call.node.output(0)})};
}
constexpr char kReluGrad[] = "relu_grad";
constexpr char kSigmoidGrad[] = "sigmoid_grad";

std::vector<Value*> grad_add(const GradCall& call) { return {call.output_grads[0], call.output_grads[0]}; }

void check_dropout(const OpCall& call) {
  const double p = call.attr_float("p");
  if (p < 0 || p >= 1) fail("p must be in [0,1), got {}", p);
  if (call.inputs[1] != TensorType{DType::i32, {}})
    fail("key must be i32[], got {}", type_str(call.inputs[1]));
}

// (x, key) -> y: in training each element is zeroed with probability p, else scaled by 1/(1-p); the mask is
// a hash of (seed, key, element index), so every backend draws the same one and a step is reproducible.
std::vector<TensorType> infer_dropout(const OpCall& call) {
  check_dropout(call);
  return infer_unary(call);
}

std::vector<Value*> grad_dropout(const GradCall& call) {
  const Node& n = call.node;
  if (!n.attr_bool("training")) return {call.output_grads[0], nullptr};
  return {emit(call.graph, "dropout_grad", {call.output_grads[0], n.input(1)},
               {{"p", n.attrs().at("p")}, {"seed", n.attrs().at("seed")}}),
          nullptr};
}

// x -> x in `dtype` (f32 or bf16), rounded to nearest even where it narrows.
std::vector<TensorType> infer_cast(const OpCall& call) {
  expect_float(call.inputs[0], "input");
  DType dtype;
  const std::string& name = std::get<std::string>(call.attrs.at("dtype"));
  if (!parse_dtype(name, &dtype) || (dtype != DType::f32 && dtype != DType::bf16))
    fail("dtype must be f32 or bf16, got '{}'", name);
  return {{dtype, call.inputs[0].shape}};
}

std::vector<Value*> grad_cast(const GradCall& call) {
  const DType from = call.node.input(0)->type().dtype;
  return {emit(call.graph, "cast", {call.output_grads[0]}, {{"dtype", std::string(dtype_name(from))}})};
}

const AttrSpec kP{"p", AttrKind::kFloat, 0.5};
const AttrSpec kSeed{"seed", AttrKind::kInt, int64_t{0}};

}  // namespace

void add_elementwise_ops(OpList& ops) {
  ops.push_back({"relu",
                 1,
                 1,
                 {},
                 infer_unary,
                 grad_from_output<kReluGrad>,
                 kElementwise,
                 "max(x, 0)",
                 {{{f32({2, 3, 5, 5}, Fill::kAwayFromZero)}},
                  {{f32({7, 9}, Fill::kAwayFromZero)}},
                  {{f32({1, 1, 1, 1}, Fill::kAwayFromZero)}}}});
  ops.push_back({"relu_grad",
                 2,
                 2,
                 {},
                 infer_binary,
                 nullptr,
                 kElementwise,
                 "relu's backward: (dy, y) -> dy·[y>0]",
                 {{{f32({2, 3, 5, 5}), f32({2, 3, 5, 5})}}, {{f32({7, 9}), f32({7, 9})}}}});
  ops.push_back({"sigmoid",
                 1,
                 1,
                 {},
                 infer_unary,
                 grad_from_output<kSigmoidGrad>,
                 kElementwise,
                 "1 / (1 + e^-x)",
                 {{{f32({2, 3, 5, 5})}}, {{f32({7, 9})}}, {{f32({1, 1, 1, 1})}}}});
  ops.push_back({"sigmoid_grad",
                 2,
                 2,
                 {},
                 infer_binary,
                 nullptr,
                 kElementwise,
                 "sigmoid's backward: (dy, y) -> dy·y·(1-y)",
                 {{{f32({2, 3, 5, 5}), f32({2, 3, 5, 5})}}, {{f32({7, 9}), f32({7, 9})}}}});
  ops.push_back({"add",
                 2,
                 2,
                 {kRelu},
                 infer_binary,
                 grad_add,
                 kElementwise,
                 "a + b, same shapes, then relu",
                 {
                     {{f32({2, 3, 5, 5}), f32({2, 3, 5, 5})}},
                     {{f32({7, 9}), f32({7, 9})}},
                     {{f32({1, 1, 1, 1}), f32({1, 1, 1, 1})}},
                     {{f32({2, 3, 7, 7}), f32({2, 3, 7, 7})}, {{"relu", true}}},
                 }});
  ops.push_back({"dropout",
                 2,
                 2,
                 {kP, kSeed, {"training", AttrKind::kBool, true}},
                 infer_dropout,
                 grad_dropout,
                 {.elementwise = true, .inplace = true, .stateful_rng = true},
                 "(x, key) -> x masked with probability p and scaled by 1/(1-p); identity in inference",
                 {
                     {{f32({2, 3, 5, 5}), i32({})}, {{"p", 0.3}, {"seed", int64_t{11}}}},
                     {{f32({7, 9}), i32({})}, {{"p", 0.3}, {"seed", int64_t{11}}, {"training", false}}},
                     {{f32({3, 4}), i32({})}, {{"p", 0.4}, {"seed", int64_t{3}}}},
                 }});
  ops.push_back({"dropout_grad",
                 2,
                 2,
                 {kP, kSeed},
                 infer_dropout,
                 nullptr,
                 {.elementwise = true, .inplace = true, .stateful_rng = true},
                 "dropout's backward: (dy, key) -> dy with the forward's mask and scale",
                 {{{f32({7, 9}), i32({})}, {{"p", 0.3}, {"seed", int64_t{11}}}}}});
  ops.push_back({"cast",
                 1,
                 1,
                 {{"dtype", AttrKind::kString, std::nullopt}},
                 infer_cast,
                 grad_cast,
                 {.elementwise = true},
                 "x in another float dtype (f32, bf16), rounded to nearest even where it narrows",
                 {
                     {{f32({2, 3, 5, 5})}, {{"dtype", std::string("bf16")}}},
                     {{bf16({7, 9})}, {{"dtype", std::string("f32")}}},
                     {{f32({7, 9})}, {{"dtype", std::string("f32")}}},
                 }});
}

}  // namespace stratum::ops
