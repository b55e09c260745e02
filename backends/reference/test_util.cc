#include "backends/reference/test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "backends/reference/interpreter.h"
#include "ir/graph.h"

namespace stratum::testing {

namespace {

template <typename T>
Tensor literal(DType dtype, const Shape& shape, const std::vector<T>& values, T* (Tensor::*data)()) {
  Tensor t({dtype, shape});
  EXPECT_EQ(t.size(), static_cast<int64_t>(values.size())) << "literal of shape " << shape_str(shape);
  std::copy_n(values.begin(), std::min<int64_t>(t.size(), values.size()), (t.*data)());
  return t;
}

}  // namespace

Tensor f32_tensor(const Shape& shape, const std::vector<float>& values) {
  return literal(DType::f32, shape, values, &Tensor::f32);
}

Tensor i32_tensor(const Shape& shape, const std::vector<int32_t>& values) {
  return literal(DType::i32, shape, values, &Tensor::i32);
}

std::vector<float> values(const Tensor& t) { return std::vector<float>(t.f32(), t.f32() + t.size()); }

std::vector<Tensor> run_op(std::string_view op, const std::vector<Tensor>& inputs, Attrs attrs) {
  Graph graph;
  std::vector<Value*> args;
  std::map<std::string, Tensor> feeds;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string name = "in" + std::to_string(i);
    args.push_back(graph.add_input(name, inputs[i].type()));
    feeds[name] = inputs[i];
  }
  for (Value* out : graph.add_node(op, args, std::move(attrs))->outputs()) graph.add_output(out);
  Interpreter interpreter(graph);
  Store store;
  interpreter.run(feeds, store);
  return interpreter.outputs();
}

void expect_values(const Tensor& t, const std::vector<float>& expected, double tolerance) {
  ASSERT_EQ(t.size(), static_cast<int64_t>(expected.size())) << type_str(t.type());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(t.f32()[i], expected[i], tolerance) << "element " << i;
  }
}

}  // namespace stratum::testing
