// run() copies its args into host tensors and interprets the graph: written for clarity, not speed.
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>

#include "backends/cpp_plugin.h"
#include "backends/reference/interpreter.h"
#include "backends/reference/kernels.h"
#include "backends/reference/plugin.h"
#include "backends/subgraph.h"

struct stratum_program {
  stratum::RebuiltGraph rebuilt;
  std::unique_ptr<stratum::Interpreter> interpreter;
};

namespace stratum {
namespace {

int supports(const stratum_node* node, const stratum_tensor_desc*, int32_t n_values) {
  return find_reference_kernel(node->op) != nullptr && stratum_node_ids_in_range(node, n_values);
}

stratum_program* compile(const stratum_subgraph* subgraph) {
  auto program = std::make_unique<stratum_program>();
  if (guarded([&] {
        program->rebuilt = rebuild_graph(*subgraph);
        program->interpreter = std::make_unique<Interpreter>(*program->rebuilt.graph);
      })) {
    return nullptr;
  }
  return program.release();
}

int run(stratum_program* program, void* const* args, int32_t n_args) {
  return guarded([&] {
    const Graph& graph = *program->rebuilt.graph;
    std::map<std::string, Tensor> feeds;
    const auto inputs = graph.leaves_of(ValueKind::kInput);
    check_count("run", "args", n_args, inputs.size() + graph.outputs().size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      Tensor& t = feeds[inputs[i]->name()] = Tensor(inputs[i]->type());
      std::memcpy(t.data(), args[i], t.type().bytes());
    }
    Store no_state;
    program->interpreter->run(feeds, no_state);
    for (size_t i = 0; i < graph.outputs().size(); ++i) {
      const Tensor& t = program->interpreter->value(graph.outputs()[i]);
      std::memcpy(args[inputs.size() + i], t.data(), t.type().bytes());
    }
  });
}

void release(stratum_program* program) { delete program; }

}  // namespace

const stratum_plugin& reference_plugin() {
  static const stratum_op_schema schemas[] = {STRATUM_ALL_OP_SCHEMAS};
  static const stratum_plugin plugin = {STRATUM_PLUGIN_ABI_VERSION,
                                        sizeof(stratum_plugin),
                                        "reference",
                                        "cpu",
                                        "the reference backend: every op in plain loops (the oracle)",
                                        static_cast<int32_t>(std::size(schemas)),
                                        schemas,
                                        host_alloc,
                                        host_free,
                                        host_copy,
                                        host_copy,
                                        host_copy,
                                        supports,
                                        compile,
                                        run,
                                        release,
                                        nullptr,  // node_times
                                        plugin_last_error_c_str,
                                        nullptr,   // unavailable
                                        nullptr};  // arena_bytes: it allocates as it runs
  return plugin;
}

}  // namespace stratum
