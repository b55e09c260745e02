// Helpers for plugins written in C++. No exception may cross the C ABI (backends/plugin.h), so each entry
// point runs its body through guarded(), which turns one into a nonzero status and the thread's last
// error; and a cpu plugin's memory is the host's, 64-byte aligned.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "backends/op_schemas.h"
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

// Whether the node's statistics are synchronised over data-parallel ranks (batch norm's `sync`), which the
// reference backend computes through the communicator Stratum has joined: plugins leave such nodes to it.
inline bool synchronised(const stratum_node* node) {
  const stratum_attr* sync = stratum_find_attr(node, "sync");
  return sync != nullptr && sync->i != 0;
}

// Whether every value the node reads or writes is one of the n_values values, and a non-empty f32 or i32
// (or, when `bf16`, bf16) tensor of rank `max_rank` or less.
inline bool plain_values(const stratum_node* node, const stratum_tensor_desc* values, int32_t n_values,
                         int32_t max_rank, bool bf16 = false) {
  if (!stratum_node_ids_in_range(node, n_values)) return false;
  auto ok = [&](int32_t id) {
    const stratum_tensor_desc& v = values[id];
    const bool dtype = v.dtype == STRATUM_F32 || v.dtype == STRATUM_I32 || (bf16 && v.dtype == STRATUM_BF16);
    return dtype && v.rank <= max_rank && stratum_num_elements(&v) > 0;
  };
  return std::all_of(node->inputs, node->inputs + node->n_inputs, ok) &&
         std::all_of(node->outputs, node->outputs + node->n_outputs, ok);
}

// Throws unless a count the caller gave matches the one the plugin expects.
inline void check_count(const char* function, const char* what, size_t given, size_t expected) {
  if (given != expected) {
    throw std::invalid_argument(std::string(function) + ": given " + std::to_string(given) + " " + what +
                                ", the program has " + std::to_string(expected));
  }
}

// The schemas (backends/op_schemas.h) of the ops for which runs(op) is true: what a plugin that picks its
// ops at run time declares.
template <typename Runs>
std::vector<stratum_op_schema> op_schemas_where(Runs runs) {
  static const stratum_op_schema all[] = {STRATUM_ALL_OP_SCHEMAS};
  std::vector<stratum_op_schema> picked;
  std::copy_if(std::begin(all), std::end(all), std::back_inserter(picked),
               [&](const stratum_op_schema& s) { return runs(s.op); });
  return picked;
}

// The ABI's program functions for a plugin whose compiled subgraphs are `Program`s (with run(args),
// node_times(), ms per node, and, where the plugin gives them, arena_bytes() and refresh_constants()) made by
// `Compile` from a subgraph and its constant inputs' flags (null: none). The ABI's opaque stratum_program is
// a Compiled.
template <typename Program, std::unique_ptr<Program> (*Compile)(const stratum_subgraph&, const uint8_t*)>
struct ProgramFunctions {
  struct Compiled {
    std::unique_ptr<Program> program;
    int32_t n_args;  // what run checks its count against
  };
  static stratum_program* compile(const stratum_subgraph* subgraph) {
    return compile_constant(subgraph, nullptr);
  }
  // `constant`: null where no input is constant (plugin.h's compile_constant).
  static stratum_program* compile_constant(const stratum_subgraph* subgraph, const uint8_t* constant) {
    auto compiled = std::make_unique<Compiled>();
    compiled->n_args = subgraph->n_args;
    if (guarded([&] { compiled->program = Compile(*subgraph, constant); })) return nullptr;
    return reinterpret_cast<stratum_program*>(compiled.release());
  }
  static int refresh_constants(stratum_program* program) {
    return guarded([&] { of(program)->program->refresh_constants(); });
  }
  static int run(stratum_program* program, void* const* args, int32_t n_args) {
    return guarded([&] {
      check_count("run", "args", n_args, of(program)->n_args);
      of(program)->program->run(args);
    });
  }
  static void release(stratum_program* program) { delete of(program); }
  static int node_times(stratum_program* program, double* ms, int32_t n) {
    return guarded([&] {
      const std::vector<double>& times = of(program)->program->node_times();
      check_count("node_times", "nodes", n, times.size());
      std::copy(times.begin(), times.end(), ms);
    });
  }
  static size_t arena_bytes(stratum_program* program) { return of(program)->program->arena_bytes(); }
  static Compiled* of(stratum_program* program) { return reinterpret_cast<Compiled*>(program); }
};

}  // namespace stratum
