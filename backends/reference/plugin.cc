// run() copies its args into host tensors and interprets the graph: written for clarity, not speed.
#include <cstdlib>
#include <cstring>
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

int supports(const stratum_node* node, const stratum_tensor_desc*) {
  return find_reference_kernel(node->op) != nullptr;
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

int run(stratum_program* program, void* const* args) {
  return guarded([&] {
    const Graph& graph = *program->rebuilt.graph;
    std::map<std::string, Tensor> feeds;
    const auto inputs = graph.leaves_of(ValueKind::kInput);
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
  static const stratum_plugin plugin = {STRATUM_PLUGIN_ABI_VERSION,
                                        "reference",
                                        "cpu",
                                        "the reference backend: every op in plain loops (the oracle)",
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
                                        plugin_last_error_c_str};
  return plugin;
}

}  // namespace stratum
