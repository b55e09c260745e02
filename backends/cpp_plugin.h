// Helpers for plugins written in C++. No exception may cross the C ABI (backends/plugin.h), so each entry
// point runs its body through guarded(), which turns one into a nonzero status and the thread's last
// error; and a cpu plugin's memory is the host's, 64-byte aligned.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "backends/plugin.h"

namespace stratum {

// The message of this thread's last failure: what the plugin's last_error() returns.
inline std::string& plugin_last_error() {
  thread_local std::string message;
  return message;
}

inline const char* plugin_last_error_c_str() { return plugin_last_error().c_str(); }

// Runs f; returns 0, or 1 after recording the message of whatever f threw.
template <typename F>
int guarded(F f) {
  try {
    f();
    return 0;
  } catch (const std::exception& e) {
    plugin_last_error() = e.what();
  } catch (...) {
    plugin_last_error() = "an unknown exception";
  }
  return 1;
}

// The memory functions of a cpu plugin. A zero-byte request still gets a buffer, as null means failure.
inline void* host_alloc(size_t bytes) {
  return std::aligned_alloc(64, bytes == 0 ? 64 : (bytes + 63) / 64 * 64);
}
inline void host_free(void* ptr) { std::free(ptr); }
inline int host_copy(void* dst, const void* src, size_t bytes) {
  std::memcpy(dst, src, bytes);
  return 0;
}

// Whether every value the node reads or writes is a non-empty f32 or i32 tensor of rank `max_rank` or less.
inline bool plain_values(const stratum_node* node, const stratum_tensor_desc* values, int32_t max_rank) {
  auto ok = [&](int32_t id) {
    const stratum_tensor_desc& v = values[id];
    return (v.dtype == STRATUM_F32 || v.dtype == STRATUM_I32) && v.rank <= max_rank &&
           stratum_num_elements(&v) > 0;
  };
  return std::all_of(node->inputs, node->inputs + node->n_inputs, ok) &&
         std::all_of(node->outputs, node->outputs + node->n_outputs, ok);
}

// The ABI's program functions for a plugin whose compiled subgraphs are `Program`s (with run(args) and
// node_times(), ms per node) made by `Compile`. The ABI's opaque stratum_program is the Program itself.
template <typename Program, std::unique_ptr<Program> (*Compile)(const stratum_subgraph&)>
struct ProgramFunctions {
  static stratum_program* compile(const stratum_subgraph* subgraph) {
    std::unique_ptr<Program> program;
    if (guarded([&] { program = Compile(*subgraph); })) return nullptr;
    return reinterpret_cast<stratum_program*>(program.release());
  }
  static int run(stratum_program* program, void* const* args) {
    return guarded([&] { of(program)->run(args); });
  }
  static void release(stratum_program* program) { delete of(program); }
  static int node_times(stratum_program* program, double* ms, int32_t n) {
    return guarded([&] {
      const std::vector<double>& times = of(program)->node_times();
      if (static_cast<size_t>(n) != times.size())
        throw std::invalid_argument("node_times: asked for " + std::to_string(n) +
                                    " nodes, the program has " + std::to_string(times.size()));
      std::copy(times.begin(), times.end(), ms);
    });
  }
  static Program* of(stratum_program* program) { return reinterpret_cast<Program*>(program); }
};

}  // namespace stratum
