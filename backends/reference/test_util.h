// Helpers for the reference backend's tests: literal tensors, running one op, comparing values.
#pragma once

#include <string_view>
#include <vector>

#include "backends/tensor.h"
#include "ir/attr.h"

namespace stratum::testing {

Tensor f32_tensor(const Shape& shape, const std::vector<float>& values);
Tensor i32_tensor(const Shape& shape, const std::vector<int32_t>& values);
std::vector<float> values(const Tensor& t);

// Runs one `op` node on the given inputs through the Interpreter and returns all its outputs.
std::vector<Tensor> run_op(std::string_view op, const std::vector<Tensor>& inputs, Attrs attrs = {});

// Expects t to hold `expected`, element by element, within `tolerance`.
void expect_values(const Tensor& t, const std::vector<float>& expected, double tolerance = 1e-5);

}  // namespace stratum::testing
