// What each ONNX op becomes in Stratum's IR, and the checks that nothing is approximated on the way.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include "ir/error.h"
#include "onnx/importer.h"

namespace stratum {

namespace {

using onnx::NodeProto;

int64_t normalized_axis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) fail("axis {} is out of range for rank {}", axis, rank);
  return axis < 0 ? axis + rank : axis;
}

bool is_reshaped(const Value* x) {
  return x->producer() && (x->producer()->op_name() == "reshape" || x->producer()->op_name() == "flatten");
}

// A reshape that reads through earlier reshapes and is no node at all when the shape already is `shape`.
Value* reshaped(Importer& im, Value* x, const Shape& shape) {
  while (is_reshaped(x)) x = x->producer()->input(0);
  return x->type().shape == shape ? x : im.ops().reshape(x, shape);
}

// The symmetric padding [h, w] of a 2-D window (conv, pool) from `pads` or `auto_pad`; Error where the two
// sides differ, which Stratum's ops cannot represent.
Ints window_padding(const NodeProto& n, const Shape& x, const Ints& extent, const Ints& stride) {
  const std::string auto_pad = attr_string(n, "auto_pad", "NOTSET");
  Ints before(2, 0), after(2, 0);
  if (auto_pad == "NOTSET") {
    const Ints pads = attr_ints(n, "pads", {0, 0, 0, 0});
    if (pads.size() != 4) fail("pads has {} entries, not 4", pads.size());
    before = {pads[0], pads[1]};
    after = {pads[2], pads[3]};
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (int i = 0; i < 2; ++i) {
      if (stride[i] < 1) fail("strides {} must be positive", attr_str(stride));
      const int64_t in = x[2 + i], out = in / stride[i] + (in % stride[i] != 0);
      const int64_t span =
          checked_add(checked_mul(out - 1, stride[i], "the padding"), extent[i], "the padding");
      const int64_t total = std::max<int64_t>(span - in, 0);
      before[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      after[i] = total - before[i];
    }
  } else if (auto_pad != "VALID") {
    fail("auto_pad '{}' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID", auto_pad);
  }
  if (before != after) {
    fail(
        "padding {} before and {} after (auto_pad {}) differs between the sides; Stratum pads both sides "
        "alike",
        attr_str(before), attr_str(after), auto_pad);
  }
  return before;
}

Ints window_ints(const NodeProto& n, const std::string& name, const Ints& fallback) {
  const Ints v = attr_ints(n, name, fallback);
  if (v.size() != 2) fail("{} {} is not 2-D; Stratum's windows are 2-D", name, attr_str(v));
  return v;
}

void conv(Importer& im, const NodeProto& n) {
  Value* x = im.input(n, 0);
  Value* w = im.input(n, 1, {Init::kXavierUniform});
  if (x->type().rank() != 4 || w->type().rank() != 4)
    fail("input {} and weight {} are not 2-D images; Stratum's conv2d is 2-D", type_str(x->type()),
         type_str(w->type()));
  const Shape& ws = w->type().shape;
  const Ints kernel = {ws[2], ws[3]};
  if (attr_ints(n, "kernel_shape", kernel) != kernel)
    fail("kernel_shape {} differs from the weight's {}", attr_str(attr_ints(n, "kernel_shape", {})),
         attr_str(kernel));
  ConvAttrs a{
      window_ints(n, "strides", {1, 1}), {}, window_ints(n, "dilations", {1, 1}), attr_int(n, "group", 1)};
  Ints extent(2);  // of the dilated kernel
  for (int i = 0; i < 2; ++i)
    extent[i] = checked_add(checked_mul(a.dilation[i], kernel[i] - 1, "the kernel"), 1, "the kernel");
  a.padding = window_padding(n, x->type().shape, extent, a.stride);
  Value* bias = nullptr;
  if (Importer::has_input(n, 2)) {
    const double fan_in = double(ws[1] * ws[2] * ws[3]);
    bias = im.input(n, 2, {Init::kUniform, 1 / std::sqrt(fan_in)});
  }
  im.set_output(n, 0, im.ops().conv2d(x, w, bias, a));
}

// Stratum's pooling rounds the output size down; ceil_mode is exact only where rounding up gives the same.
void check_ceil_mode(const NodeProto& n, const Shape& x, const PoolAttrs& a) {
  if (attr_int(n, "ceil_mode", 0) == 0) return;
  for (int i = 0; i < 2; ++i) {
    const int64_t s = a.stride[i];
    const int64_t span =
        checked_add(x[2 + i], checked_mul(2, a.padding[i], "the padding"), "the padding") - a.kernel[i];
    if (span < 0 || s < 1) continue;  // the op itself reports a kernel that does not fit, or a bad stride
    const int64_t floor_out = span / s + 1;
    int64_t ceil_out = floor_out + (span % s != 0);
    if ((ceil_out - 1) * s >= x[2 + i] + a.padding[i]) --ceil_out;  // a last window only in the padding
    if (ceil_out != floor_out)
      fail("ceil_mode=1 adds a partial window along dim {} that Stratum's pooling (rounding down) does not",
           2 + i);
  }
}

PoolAttrs pool_attrs(const NodeProto& n, Value* x) {
  if (x->type().rank() != 4)
    fail("input {} is not a 2-D image; Stratum's pooling is 2-D", type_str(x->type()));
  const Ints kernel = window_ints(n, "kernel_shape", {});
  PoolAttrs a{kernel, window_ints(n, "strides", {1, 1}), {}};
  a.padding = window_padding(n, x->type().shape, kernel, a.stride);
  check_ceil_mode(n, x->type().shape, a);
  return a;
}

void max_pool(Importer& im, const NodeProto& n) {
  if (window_ints(n, "dilations", {1, 1}) != Ints{1, 1})
    fail("dilations {} are not supported; Stratum's max_pool is undilated",
         attr_str(attr_ints(n, "dilations", {})));
  im.expect_unused_output(n, 1);  // the indices
  Value* x = im.input(n, 0);
  im.set_output(n, 0, im.ops().max_pool(x, pool_attrs(n, x)));
}

void average_pool(Importer& im, const NodeProto& n) {
  Value* x = im.input(n, 0);
  PoolAttrs a = pool_attrs(n, x);
  a.count_include_pad = attr_int(n, "count_include_pad", 0) != 0 || a.padding == Ints{0, 0};  // same without
  im.set_output(n, 0, im.ops().avg_pool(x, a));
}

void global_average_pool(Importer& im, const NodeProto& n) {
  im.set_output(n, 0, im.ops().global_avg_pool(im.input(n, 0)));
}

void batch_normalization(Importer& im, const NodeProto& n) {
  if (attr_int(n, "training_mode", 0) != 0)
    fail(
        "training_mode=1 is not supported: import the inference graph (Stratum's training uses batch "
        "statistics itself)");
  for (int i = 1; i < n.output_size(); ++i) im.expect_unused_output(n, i);
  BatchNormParams p{im.input(n, 1, {Init::kOnes}), im.input(n, 2, {Init::kZeros}), nullptr, nullptr};
  for (int i : {3, 4}) {
    const Tensor stat = f32_tensor(im.required_constant(n, i, "running statistics are the model's state"));
    (i == 3 ? p.running_mean : p.running_var) =
        im.param(n.input(i), stat, {i == 3 ? Init::kZeros : Init::kOnes}, /*state=*/true);
  }
  // ONNX weighs the old running statistic by momentum; Stratum, like PyTorch, the new one.
  const BatchNormAttrs a{attr_float(n, "epsilon", 1e-5f), 1 - attr_float(n, "momentum", 0.9f)};
  im.set_output(n, 0, im.layers().batch_norm(im.input(n, 0), p, a));
}

void relu(Importer& im, const NodeProto& n) { im.set_output(n, 0, im.ops().relu(im.input(n, 0))); }

void sigmoid(Importer& im, const NodeProto& n) { im.set_output(n, 0, im.ops().sigmoid(im.input(n, 0))); }

// A bias of `features` values from a constant that broadcasts to them ([], [1], [features], [1,features]),
// times `scale`; null when the constant has another shape.
std::optional<Tensor> broadcast_bias(const onnx::TensorProto& c, int64_t features, float scale) {
  const Tensor t = f32_tensor(c);
  const Shape& s = t.shape();
  const bool fits = s.empty() || s == Shape{1} || s == Shape{features} || s == Shape{1, features};
  if (!fits) return std::nullopt;
  Tensor bias({DType::f32, {features}});
  for (int64_t i = 0; i < features; ++i) bias.f32()[i] = scale * t.f32()[t.size() == 1 ? 0 : i];
  return bias;
}

// y = x·w(ᵀ)(·alpha) + bias, w [M,K]: Stratum's linear, the weight transposed or scaled at import when
// it is a constant.
Value* linear(Importer& im, const NodeProto& n, bool transposed, float alpha) {
  Value* x = im.input(n, 0);
  if (x->type().rank() != 2) fail("input A {} is not a matrix", type_str(x->type()));
  const onnx::TensorProto* b = im.constant(n, 1);
  if (b == nullptr) {
    if (!transposed || alpha != 1) fail("B is computed, so it must be [M,K] (transB=1) with alpha 1");
    return im.input(n, 1);
  }
  const Tensor t = f32_tensor(*b);
  if (t.type().rank() != 2) fail("B {} is not a matrix", type_str(t.type()));
  const int64_t rows = t.shape()[0], cols = t.shape()[1];
  Tensor w({DType::f32, transposed ? t.shape() : Shape{cols, rows}});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      w.f32()[transposed ? r * cols + c : c * rows + r] = alpha * t.f32()[r * cols + c];
  return im.param(n.input(1), std::move(w), {Init::kXavierUniform});
}

Value* bias_param(Importer& im, const std::string& name, Tensor bias, int64_t fan_in) {
  return im.param(name, std::move(bias), {Init::kUniform, 1 / std::sqrt(double(fan_in))});
}

void gemm(Importer& im, const NodeProto& n) {
  if (attr_int(n, "transA", 0) != 0) fail("transA=1 is not supported: A must be [N,K]");
  Value* w = linear(im, n, attr_int(n, "transB", 0) != 0, attr_float(n, "alpha", 1));
  Value* x = im.input(n, 0);
  const int64_t features = w->type().shape[0];
  const float beta = attr_float(n, "beta", 1);
  const onnx::TensorProto* c = im.constant(n, 2);
  std::optional<Tensor> bias = c ? broadcast_bias(*c, features, beta) : std::nullopt;
  Value* y = im.ops().linear(
      x, w, bias ? bias_param(im, n.input(2), std::move(*bias), x->type().shape[1]) : nullptr);
  if (Importer::has_input(n, 2) && !bias) {  // a full [N,M] matrix, computed or constant
    if (beta != 1) fail("beta {} scales a C that is not a constant vector", beta);
    y = im.ops().add(y, im.input(n, 2));
  }
  im.set_output(n, 0, y);
}

// MatMul by a constant, and the Add of a bias that follows it (as PyTorch exports a linear layer).
void mat_mul(Importer& im, const NodeProto& n) {
  Value* w = linear(im, n, /*transposed=*/false, 1);
  Value* x = im.input(n, 0);
  const NodeProto* add = im.sole_reader(n);
  if (add && add->op_type() == "Add") {
    const int other = add->input(0) == n.output(0) ? 1 : 0;
    const onnx::TensorProto* c = im.constant(*add, other);
    if (std::optional<Tensor> bias = c ? broadcast_bias(*c, w->type().shape[0], 1) : std::nullopt) {
      im.fold(*add);
      im.set_output(
          *add, 0,
          im.ops().linear(x, w, bias_param(im, add->input(other), std::move(*bias), x->type().shape[1])));
      return;
    }
  }
  im.set_output(n, 0, im.ops().linear(x, w));
}

void add(Importer& im, const NodeProto& n) {
  Value* a = im.input(n, 0);
  Value* b = im.input(n, 1);
  if (a->type() != b->type())
    fail("broadcasts {} with {}; Stratum's add takes equal shapes (a bias after a MatMul is folded into it)",
         type_str(a->type()), type_str(b->type()));
  im.set_output(n, 0, im.ops().add(a, b));
}

void concat(Importer& im, const NodeProto& n) {
  std::vector<Value*> xs;
  for (int i = 0; i < n.input_size(); ++i) xs.push_back(im.input(n, i));
  if (!find_attr(n, "axis")) fail("attribute 'axis' is required");
  im.set_output(n, 0, im.ops().concat(xs, normalized_axis(attr_int(n, "axis", 0), xs[0]->type().rank())));
}

// Elements [start, end) of each axis given (all from 0 by default), at step 1, the bounds constant (opset
// 10 on: inputs): one Stratum slice an axis that it cuts.
void slice(Importer& im, const NodeProto& n) {
  if (im.opset() < 10) fail("Slice before opset 10 (bounds as attributes) is not supported");
  Value* x = im.input(n, 0);
  const char* why = "Stratum's slices are static";
  auto given = [&](int i) { return n.input_size() > i && !n.input(i).empty(); };
  const Ints starts = i64_values(im.required_constant(n, 1, why)),
             ends = i64_values(im.required_constant(n, 2, why));
  Ints axes(starts.size());
  std::iota(axes.begin(), axes.end(), 0);
  if (given(3)) axes = i64_values(im.required_constant(n, 3, why));
  const Ints steps = given(4) ? i64_values(im.required_constant(n, 4, why)) : Ints(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    fail("starts, ends, axes and steps have {}, {}, {} and {} entries", starts.size(), ends.size(),
         axes.size(), steps.size());
  if (std::any_of(steps.begin(), steps.end(), [](int64_t step) { return step != 1; }))
    fail("steps {}: Stratum slices at step 1", attr_str(steps));
  for (size_t i = 0; i < starts.size(); ++i) {
    const int64_t axis = normalized_axis(axes[i], x->type().rank()), dim = x->type().shape[axis];
    auto bound = [dim](int64_t at) { return std::clamp<int64_t>(at < 0 ? at + dim : at, 0, dim); };
    const int64_t begin = bound(starts[i]), end = bound(ends[i]);
    if (begin >= end)
      fail("[{}, {}) of axis {} (of {}) is empty: Stratum has no empty tensors", starts[i], ends[i], axis,
           dim);
    if (end - begin < dim) x = im.ops().op("slice", {x}, {{"axis", axis}, {"begin", begin}, {"end", end}});
  }
  im.set_output(n, 0, x);
}

void flatten(Importer& im, const NodeProto& n) {
  Value* x = im.input(n, 0);
  const Shape& s = x->type().shape;
  const int64_t axis = attr_int(n, "axis", 1);
  const int64_t split = axis == int64_t(s.size()) ? axis : normalized_axis(axis, s.size());
  if (split == 1 && s.size() > 2 && !is_reshaped(x)) return im.set_output(n, 0, im.ops().flatten(x));
  const int64_t outer = num_elements({s.begin(), s.begin() + split});
  im.set_output(n, 0, reshaped(im, x, {outer, x->type().num_elements() / outer}));
}

void reshape(Importer& im, const NodeProto& n) {
  Value* x = im.input(n, 0);
  Shape shape = i64_values(im.required_constant(n, 1, "Stratum's shapes are static"));
  int64_t inferred = -1, known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0) {
      if (attr_int(n, "allowzero", 0) != 0) fail("allowzero=1 with a 0 in the shape makes an empty tensor");
      if (i >= x->type().shape.size())
        fail("shape {} copies dim {}, which the input {} lacks", shape_str(shape), i, type_str(x->type()));
      shape[i] = x->type().shape[i];
    }
    if (shape[i] == -1) {
      if (inferred >= 0) fail("shape {} has more than one -1", shape_str(shape));
      inferred = i;
    } else {
      known = checked_mul(known, shape[i], "the shape");
    }
  }
  if (inferred >= 0) shape[inferred] = known > 0 ? x->type().num_elements() / known : 0;
  im.set_output(n, 0, reshaped(im, x, shape));
}

bool is_true(const onnx::TensorProto& scalar) {
  return scalar.has_raw_data() ? scalar.raw_data().find_first_not_of('\0') != std::string::npos
                               : scalar.int32_data_size() > 0 && scalar.int32_data(0) != 0;
}

// Dropout: the identity in inference; in training, Stratum's dropout with the model's ratio.
void dropout(Importer& im, const NodeProto& n) {
  im.expect_unused_output(n, 1);  // the mask
  float ratio = attr_float(n, "ratio", 0.5f);
  if (Importer::has_input(n, 1))
    ratio = f32_tensor(im.required_constant(n, 1, "the ratio is fixed")).f32()[0];
  if (Importer::has_input(n, 2)) {
    const onnx::TensorProto& mode = im.required_constant(n, 2, "inference graphs do not drop out");
    if (mode.data_type() != onnx::TensorProto::BOOL || is_true(mode))
      fail("training_mode must be false: Stratum drops out when it trains, not when the model says");
  }
  Value* x = im.input(n, 0);
  im.set_output(n, 0, ratio > 0 ? im.layers().dropout(x, ratio) : x);
}

void softmax(Importer& im, const NodeProto& n) {
  Value* x = im.input(n, 0);
  const Shape& s = x->type().shape;
  const int64_t axis = normalized_axis(attr_int(n, "axis", im.opset() < 13 ? 1 : -1), s.size());
  if (im.opset() >= 13) return im.set_output(n, 0, im.ops().softmax(x, axis));
  // Before opset 13, Softmax normalises over all dims from `axis` on, as one.
  const int64_t outer = num_elements({s.begin(), s.begin() + axis});
  Value* rows = reshaped(im, x, {outer, x->type().num_elements() / outer});
  im.set_output(n, 0, reshaped(im, im.ops().softmax(rows, 1), s));
}

// Pad that pads nothing (PyTorch writes one before each AveragePool); real padding belongs in the window op.
void pad(Importer& im, const NodeProto& n) {
  const Ints pads = im.opset() < 11 ? attr_ints(n, "pads", {})
                                    : i64_values(im.required_constant(n, 1, "Stratum's shapes are static"));
  if (std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p != 0; }))
    fail("pads {} are not all 0; Stratum imports padding only as a Conv's or pool's own", attr_str(pads));
  im.set_output(n, 0, im.input(n, 0));
}

void identity(Importer& im, const NodeProto& n) {
  if (const onnx::TensorProto* c = im.constant(n, 0)) return im.set_constant(n, *c);
  im.set_output(n, 0, im.input(n, 0));
}

void constant(Importer& im, const NodeProto& n) {
  if (n.attribute_size() != 1) fail("needs exactly one value attribute");
  const onnx::AttributeProto& a = n.attribute(0);
  onnx::TensorProto t;
  if (a.name() == "value") {
    t = a.t();
  } else if (a.name() == "value_float" || a.name() == "value_floats") {
    t.set_data_type(onnx::TensorProto::FLOAT);
    if (a.name() == "value_float")
      t.add_float_data(a.f());
    else
      *t.mutable_float_data() = a.floats(), t.add_dims(a.floats_size());
  } else {
    t.set_data_type(onnx::TensorProto::INT64);
    if (a.name() == "value_int")
      t.add_int64_data(a.i());
    else
      *t.mutable_int64_data() = a.ints(), t.add_dims(a.ints_size());
  }
  t.set_name(n.output(0));
  im.set_constant(n, std::move(t));
}

}  // namespace

const std::vector<OpImporter>& op_importers() {
  static const std::vector<OpImporter> ops = {
      {"Add", {}, add},
      {"AveragePool",
       {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"},
       average_pool},
      {"BatchNormalization", {"epsilon", "momentum", "training_mode"}, batch_normalization},
      {"Concat", {"axis"}, concat},
      {"Constant", {"value", "value_float", "value_floats", "value_int", "value_ints"}, constant},
      {"Conv", {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}, conv},
      {"Dropout", {"ratio", "seed"}, dropout},
      {"Flatten", {"axis"}, flatten},
      {"Gemm", {"alpha", "beta", "transA", "transB"}, gemm},
      {"GlobalAveragePool", {}, global_average_pool},
      {"Identity", {}, identity},
      {"MatMul", {}, mat_mul},
      {"MaxPool",
       {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"},
       max_pool},
      {"Pad", {"mode", "pads", "value"}, pad},
      {"Relu", {}, relu},
      {"Reshape", {"allowzero"}, reshape},
      {"Sigmoid", {}, sigmoid},
      {"Slice", {}, slice},
      {"Softmax", {"axis"}, softmax},
  };
  return ops;
}

}  // namespace stratum
