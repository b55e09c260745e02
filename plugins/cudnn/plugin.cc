// The plugin's C ABI (backends/plugin.h): device memory on the plugin's stream, and programs compiled by
// Compiler. No exception crosses the ABI: each entry point turns one into a nonzero status and last_error.
// On a machine without a CUDA device the library still loads, and its `unavailable` says why.
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "backends/cpp_plugin.h"
#include "backends/plugin.h"
#include "ir/error.h"
#include "plugins/cudnn/compiler.h"
#include "plugins/cudnn/ops.h"

namespace stratum::cudnn {

namespace {

void* alloc(size_t bytes) {
  void* ptr = nullptr;
  if (guarded([&] { check(cudaMalloc(&ptr, std::max<size_t>(bytes, 1)), "cudaMalloc"); })) return nullptr;
  return ptr;
}

void free(void* ptr) { cudaFree(ptr); }

// Copies on the plugin's stream (its kernels never race them), done when the call returns.
int copy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  return guarded([&] {
    check(cudaMemcpyAsync(dst, src, bytes, kind, device().stream), "cudaMemcpyAsync");
    check(cudaStreamSynchronize(device().stream), "cudaStreamSynchronize");
  });
}

int copy_from_host(void* dst, const void* src, size_t bytes) {
  return copy(dst, src, bytes, cudaMemcpyHostToDevice);
}
int copy_to_host(void* dst, const void* src, size_t bytes) {
  return copy(dst, src, bytes, cudaMemcpyDeviceToHost);
}
int copy_on_device(void* dst, const void* src, size_t bytes) {
  return copy(dst, src, bytes, cudaMemcpyDeviceToDevice);
}

// Every op the plugin compiles, on non-empty f32 and i32 values of rank 4 or less (cuDNN's descriptors);
// which dtypes each op takes, its shape inference checks at compile time.
int supports(const stratum_node* node, const stratum_tensor_desc* values, int32_t n_values) {
  if (std::string_view(node->op) == "allreduce" && !runs_allreduce()) return 0;
  return find_op_compiler(node->op) != nullptr && !synchronised(node) &&
         plain_values(node, values, n_values, 4);
}

const char* unavailable() {
  static const std::string reason = unavailable_reason();
  return reason.empty() ? nullptr : reason.c_str();
}

using Programs = ProgramFunctions<Program, Compiler::compile>;

std::string description() {
  const size_t v = cudnnGetVersion();
  std::string text = fmt::format("cuDNN {}.{}.{} and cuBLAS, CUDA runtime {}.{}", v / 10000, v / 100 % 100,
                                 v % 100, CUDART_VERSION / 1000, CUDART_VERSION / 10 % 100);
  cudaDeviceProp prop{};
  if (unavailable_reason().empty() && cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
    text += fmt::format(", {} (sm_{}{})", prop.name, prop.major, prop.minor);
  return text;
}

const stratum_plugin& plugin() {
  static const std::string text = description();
  static const std::vector<stratum_op_schema> schemas =
      op_schemas_where([](const char* op) { return find_op_compiler(op) != nullptr; });
  static const stratum_plugin plugin = {STRATUM_PLUGIN_ABI_VERSION,
                                        sizeof(stratum_plugin),
                                        "cudnn",
                                        "gpu",
                                        text.c_str(),
                                        static_cast<int32_t>(schemas.size()),
                                        schemas.data(),
                                        alloc,
                                        free,
                                        copy_from_host,
                                        copy_to_host,
                                        copy_on_device,
                                        supports,
                                        Programs::compile,
                                        Programs::run,
                                        Programs::release,
                                        Programs::node_times,
                                        plugin_last_error_c_str,
                                        unavailable,
                                        Programs::arena_bytes,
                                        nullptr,  // compile_constant: nothing is derived from inputs
                                        nullptr,
                                        set_world};
  return plugin;
}

}  // namespace

}  // namespace stratum::cudnn

extern "C" __attribute__((visibility("default"))) const stratum_plugin* stratum_plugin_entry(void) {
  return &stratum::cudnn::plugin();
}
