// The plugin's C ABI (backends/plugin.h): host memory, and programs compiled by Compiler. No exception
// crosses the ABI: each entry point turns one into a nonzero status and last_error.
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "backends/cpp_plugin.h"
#include "backends/plugin.h"
#include "ir/error.h"
#include "plugins/onednn/compiler.h"
#include "plugins/onednn/ops.h"

namespace stratum::onednn {

namespace {

// Whether a pooling node's windows tile its input: kernel = stride, no padding.
bool windows_tile(const stratum_node* node) {
  const stratum_attr *k = stratum_find_attr(node, "kernel"), *s = stratum_find_attr(node, "stride");
  const stratum_attr* p = stratum_find_attr(node, "padding");
  if (!k || !s || !p || k->n_ints != 2 || s->n_ints != 2 || p->n_ints != 2) return false;
  return std::equal(k->ints, k->ints + 2, s->ints) && p->ints[0] == 0 && p->ints[1] == 0;
}

// Every op the plugin compiles, on f32 and i32 values, and bf16 as above (which ones each op takes, its
// shape inference checks at compile time); empty tensors are left to the reference backend.
// avg_pool_sigmoid_grad only for windows that tile; no synchronised batch norm.
int supports(const stratum_node* node, const stratum_tensor_desc* values, int32_t n_values) {
  if (std::string_view(node->op) == "avg_pool_sigmoid_grad" && !windows_tile(node)) return 0;
  static const bool bf16 = cpu_has(dnnl::cpu_isa::avx512_core_bf16);
  return find_op_compiler(node->op) != nullptr && !synchronised(node) &&
         plain_values(node, values, n_values, STRATUM_MAX_RANK, bf16 && runs_bf16(node->op));
}

// memcpy on every thread, a MiB each at a time: a training step's update copies every weight (VGG-11/4's
// 172 MB: 25 ms on one core).
int parallel_copy(void* dst, const void* src, size_t bytes) {
  constexpr size_t kChunk = size_t{1} << 20;
  parallel_for(
      static_cast<int64_t>((bytes + kChunk - 1) / kChunk),
      [&](int64_t i) {
        const size_t at = static_cast<size_t>(i) * kChunk;
        std::memcpy(static_cast<char*>(dst) + at, static_cast<const char*>(src) + at,
                    std::min(kChunk, bytes - at));
      },
      kChunk);
  return 0;
}

using Programs = ProgramFunctions<Program, Compiler::compile>;

std::string description() {
  const dnnl::version_t* v = dnnl::version();
  return fmt::format("oneDNN {}.{}.{} primitives, {} threads", v->major, v->minor, v->patch,
                     omp_get_max_threads());
}

const stratum_plugin& plugin() {
  static const std::string text = description();
  static const std::vector<stratum_op_schema> schemas =
      op_schemas_where([](const char* op) { return find_op_compiler(op) != nullptr; });
  static const stratum_plugin plugin = {STRATUM_PLUGIN_ABI_VERSION,
                                        sizeof(stratum_plugin),
                                        "onednn",
                                        "cpu",
                                        text.c_str(),
                                        static_cast<int32_t>(schemas.size()),
                                        schemas.data(),
                                        host_alloc,
                                        host_free,
                                        parallel_copy,
                                        parallel_copy,
                                        parallel_copy,
                                        supports,
                                        Programs::compile,
                                        Programs::run,
                                        Programs::release,
                                        Programs::node_times,
                                        plugin_last_error_c_str,
                                        nullptr,  // unavailable: it runs wherever it loads
                                        Programs::arena_bytes,
                                        Programs::compile_constant,
                                        Programs::refresh_constants,
                                        set_world};
  return plugin;
}

}  // namespace

}  // namespace stratum::onednn

extern "C" __attribute__((visibility("default"))) const stratum_plugin* stratum_plugin_entry(void) {
  return &stratum::onednn::plugin();
}
