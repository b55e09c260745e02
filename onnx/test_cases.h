// Test cases laid out as ONNX's backend node tests are: DIR/model.onnx beside DIR/test_data_set_*/ with
// input_<i>.pb and output_<i>.pb (TensorProto files). ONNX's node tests and the PyTorch-exported nets
// (bench/torch_nets.py --export) both come this way.
#pragma once

#include <filesystem>
#include <string>

#include "onnx/model.h"

namespace stratum {

onnx::TensorProto read_tensor_file(const std::filesystem::path& path);

// The model with its graph inputs after the first made initializers, from the data set's values: in the
// models Stratum imports those are weights, shapes and ratios, which it needs as constants.
OnnxModel bound_model(const std::filesystem::path& dir, const std::filesystem::path& data_set);

struct CaseResult {
  double max_abs_diff = 0;  // over every element of every output
  double max_abs_want = 0;  // the largest expected value, for scale
  double worst = 0;  // the largest |got - want| / (abs_tolerance + rel_tolerance·|want|): ≤ 1 passes
};

// Imports the model (its batch, dim 0, that of input_0.pb), runs it on the plugin with the data set's
// inputs and compares its outputs with the data set's. Error when it does not import or run, or when an
// output's shape differs.
CaseResult run_case(const OnnxModel& model, const std::filesystem::path& data_set, const std::string& plugin,
                    double abs_tolerance, double rel_tolerance);

}  // namespace stratum
