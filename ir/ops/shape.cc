// Ops that move data without arithmetic: flatten, reshape, concat, slice.
#include "ir/ops/common.h"

namespace stratum::ops {

TensorType concatenated(const std::vector<TensorType>& inputs, int64_t axis) {
  TensorType y = inputs.at(0);
  if (axis < 0 || axis >= y.rank()) fail("axis {} is out of range for {}", axis, type_str(y));
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorType& x = inputs[i];
    if (i == 0) continue;
    Shape expected = y.shape;
    expected[axis] = x.rank() == y.rank() ? x.shape[axis] : 0;
    if (x.dtype != y.dtype || x.shape != expected) {
      fail("input {} is {}, which does not concatenate with {} along axis {}", i, type_str(x),
           type_str(inputs[0]), axis);
    }
    y.shape[axis] = checked_add(y.shape[axis], x.shape[axis], "the concatenated axis");
  }
  return y;
}

namespace {

std::vector<TensorType> infer_flatten(const OpCall& call) {
  const TensorType& x = call.inputs[0];
  if (x.rank() < 1) fail("input must have rank 1 or more, got {}", type_str(x));
  return {{x.dtype, {x.shape[0], x.num_elements() / x.shape[0]}}};
}

std::vector<Value*> grad_reshape(const GradCall& call) {
  return {emit(call.graph, "reshape", {call.output_grads[0]}, {{"shape", call.node.input(0)->type().shape}})};
}

std::vector<TensorType> infer_reshape(const OpCall& call) {
  const TensorType& x = call.inputs[0];
  expect_ints(call, "shape", call.attr_ints("shape").size(), 1);
  Shape shape = call.attr_ints("shape");
  if (num_elements(shape) != x.num_elements()) {
    fail("cannot reshape {} ({} elements) to {} ({} elements)", type_str(x), x.num_elements(),
         shape_str(shape), num_elements(shape));
  }
  return {{x.dtype, shape}};
}

std::vector<TensorType> infer_concat(const OpCall& call) {
  return {concatenated(call.inputs, call.attr_int("axis"))};
}

std::vector<Value*> grad_concat(const GradCall& call) {
  const int64_t axis = call.node.attr_int("axis");
  std::vector<Value*> grads;
  int64_t begin = 0;
  for (Value* x : call.node.inputs()) {
    const int64_t end = begin + x->type().shape[axis];
    grads.push_back(
        emit(call.graph, "slice", {call.output_grads[0]}, {{"axis", axis}, {"begin", begin}, {"end", end}}));
    begin = end;
  }
  return grads;
}

std::vector<TensorType> infer_slice(const OpCall& call) {
  TensorType y = call.inputs[0];
  const int64_t axis = call.attr_int("axis"), begin = call.attr_int("begin"), end = call.attr_int("end");
  if (axis < 0 || axis >= y.rank()) fail("axis {} is out of range for {}", axis, type_str(y));
  if (begin < 0 || end > y.shape[axis] || begin >= end) {
    fail("range [{},{}) is empty or outside axis {} of {}", begin, end, axis, type_str(y));
  }
  y.shape[axis] = end - begin;
  return {y};
}

}  // namespace

void add_shape_ops(OpList& ops) {
  ops.push_back({"flatten",
                 1,
                 1,
                 {},
                 infer_flatten,
                 grad_reshape,
                 {},
                 "[N,...] -> [N, product of the rest]",
                 {{{f32({2, 3, 4, 5})}}}});
  ops.push_back({"reshape",
                 1,
                 1,
                 {{"shape", AttrKind::kInts, std::nullopt}},
                 infer_reshape,
                 grad_reshape,
                 {},
                 "the same elements, in order, under a new shape",
                 {{{f32({2, 60})}, {{"shape", Ints{2, 3, 4, 5}}}}}});
  ops.push_back({"concat",
                 1,
                 -1,
                 {{"axis", AttrKind::kInt, int64_t{1}}},
                 infer_concat,
                 grad_concat,
                 {},
                 "inputs joined along an axis",
                 {
                     {{f32({2, 3, 4, 4}), f32({2, 1, 4, 4}), f32({2, 5, 4, 4})}},
                     {{f32({2, 7}), f32({3, 7})}, {{"axis", int64_t{0}}}},
                     {{f32({1, 3}), f32({2, 3}), f32({1, 3})}, {{"axis", int64_t{0}}}},
                 }});
  ops.push_back(
      {"slice",
       1,
       1,
       {{"axis", AttrKind::kInt, std::nullopt},
        {"begin", AttrKind::kInt, std::nullopt},
        {"end", AttrKind::kInt, std::nullopt}},
       infer_slice,
       nullptr,
       {},
       "elements [begin, end) along an axis",
       {{{f32({2, 9, 3, 3})}, {{"axis", int64_t{1}}, {"begin", int64_t{2}}, {"end", int64_t{7}}}}}});
}

}  // namespace stratum::ops
