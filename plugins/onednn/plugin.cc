// The plugin's C ABI (backends/plugin.h): host memory, and programs compiled by Compiler. No exception
// crosses the ABI: each entry point turns one into a nonzero status and last_error.
#include <omp.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "backends/cpp_plugin.h"
#include "backends/plugin.h"
#include "ir/error.h"
#include "plugins/onednn/compiler.h"
#include "plugins/onednn/ops.h"

struct stratum_program {
  std::unique_ptr<stratum::onednn::Program> program;
};

namespace stratum::onednn {

namespace {

// 64-byte aligned, as oneDNN and AVX-512 like it (aligned_alloc wants a nonzero multiple of that).
// Every op the plugin compiles, on f32 and i32 values (which ones each op takes, its shape inference checks
// at compile time); empty tensors are left to the reference backend.
int supports(const stratum_node* node, const stratum_tensor_desc* values) {
  try {
    if (find_op_compiler(node->op) == nullptr) return 0;
    auto ok = [&](int32_t id) {
      const stratum_tensor_desc& v = values[id];
      return (v.dtype == STRATUM_F32 || v.dtype == STRATUM_I32) && stratum_num_elements(&v) > 0;
    };
    for (int32_t i = 0; i < node->n_inputs; ++i) {
      if (!ok(node->inputs[i])) return 0;
    }
    for (int32_t i = 0; i < node->n_outputs; ++i) {
      if (!ok(node->outputs[i])) return 0;
    }
    return 1;
  } catch (...) {
    return 0;
  }
}

stratum_program* compile(const stratum_subgraph* subgraph) {
  auto program = std::make_unique<stratum_program>();
  if (guarded([&] { program->program = Compiler::compile(*subgraph); })) return nullptr;
  return program.release();
}

int run(stratum_program* program, void* const* args) {
  return guarded([&] { program->program->run(args); });
}

void release(stratum_program* program) { delete program; }

int node_times(stratum_program* program, double* ms, int32_t n) {
  return guarded([&] {
    const std::vector<double>& times = program->program->node_times();
    if (static_cast<size_t>(n) != times.size())
      fail("node_times: asked for {} nodes, the program has {}", n, times.size());
    std::copy(times.begin(), times.end(), ms);
  });
}

std::string description() {
  const dnnl::version_t* v = dnnl::version();
  return fmt::format("oneDNN {}.{}.{} primitives, {} threads", v->major, v->minor, v->patch,
                     omp_get_max_threads());
}

const stratum_plugin& plugin() {
  static const std::string text = description();
  static const stratum_plugin plugin = {STRATUM_PLUGIN_ABI_VERSION,
                                        "onednn",
                                        "cpu",
                                        text.c_str(),
                                        host_alloc,
                                        host_free,
                                        host_copy,
                                        host_copy,
                                        host_copy,
                                        supports,
                                        compile,
                                        run,
                                        release,
                                        node_times,
                                        plugin_last_error_c_str};
  return plugin;
}

}  // namespace

}  // namespace stratum::onednn

extern "C" __attribute__((visibility("default"))) const stratum_plugin* stratum_plugin_entry(void) {
  return &stratum::onednn::plugin();
}
