// The ONNX importer: the input is a model file, read, checked and imported for inference with batch 2.
// Errors are expected; anything else (a crash, a sanitizer report, another exception) is a finding.
#include <cstdint>
#include <string>

#include "ir/error.h"
#include "onnx/import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stratum;
  try {
    const OnnxModel model = parse_onnx(std::string(reinterpret_cast<const char*>(data), size), "fuzz.onnx");
    Graph graph("fuzz");
    Layers layers(graph, /*training=*/false);
    std::vector<Value*> inputs;
    for (const TensorType& type : onnx_input_types(model, 2))
      inputs.push_back(graph.add_input("in" + std::to_string(inputs.size()), type));
    Store weights;
    import_onnx(model, layers, inputs, weights);
  } catch (const Error&) {
  }
  return 0;
}
