/* Stratum backend plugin interface, version 1.
 *
 * A plugin is a shared library, libstratum_<name>.so, that exports one function:
 *
 *     const stratum_plugin* stratum_plugin_entry(void);
 *
 * Stratum finds the library by name on a search path (STRATUM_PLUGIN_PATH, the folder of the running
 * binary, its Bazel runfiles), calls the entry point and checks `abi_version` before it touches anything
 * else, so a plugin built against another version of this header is refused with both versions named. It
 * then checks every field (struct_size, strings, functions, op schemas) and refuses the plugin, naming the
 * field, where one is wrong.
 *
 * Why a C ABI: plugins are built out of tree, by other compilers and standard libraries, and loaded with
 * dlopen. Plain C structs and function pointers are the one boundary that stays stable across all of them;
 * a C++ class would tie every plugin to Stratum's compiler, flags and IR headers. This header is the whole
 * contract with its generated companion backends/op_schemas.h (the ops' schemas) and communicator.h (a
 * data-parallel job's collectives): it includes only those and <stddef.h> and <stdint.h>, and a plugin needs
 * nothing else from Stratum.
 *
 * The flow. Stratum partitions a graph: it asks `supports` about every node of an op the plugin lists, and
 * hands each maximal run of supported nodes to `compile` as a subgraph. The program that returns is run once
 * per training step with the same shapes. `compile` is where a plugin builds its kernels, picks layouts and
 * allocates its scratch: `run` must not allocate. Values inside a subgraph are the plugin's own business (any
 * layout, any memory); values at its edges ("args") are dense, row-major (logical NCHW), in memory from the
 * plugin's `alloc` (a cpu plugin may also get host memory from elsewhere). A program's args are at the same
 * addresses at every run, and no output arg overlaps another arg. Stratum calls a plugin from one thread at a
 * time.
 *
 * Errors: functions that can fail return 0 on success and nonzero on failure (null for `compile`), after
 * which `last_error` says what went wrong, naming the node where there is one.
 *
 * `bazel run //tools:opt -- --ops` lists every op with a line about it; ir/ops/ declares each op's inputs,
 * attributes and shape rule, and the reference backend (backends/reference/) defines its semantics, which
 * `plugin_check` compares against. The one rule a plugin cannot read off a kernel is dropout's mask: use
 * stratum_dropout_keep() below, so that every backend draws the same one.
 */
#ifndef STRATUM_BACKENDS_PLUGIN_H_
#define STRATUM_BACKENDS_PLUGIN_H_

#include <stddef.h>
#include <stdint.h>

#include "backends/communicator.h"

#ifdef __cplusplus
extern "C" {
#endif

#define STRATUM_PLUGIN_ABI_VERSION 1
#define STRATUM_MAX_RANK 8

/* Element types; the numbering is part of the ABI. */
typedef enum { STRATUM_F32 = 0, STRATUM_I32 = 1, STRATUM_BF16 = 2, STRATUM_F16 = 3 } stratum_dtype;

/* The type of one value: its element type and shape (rank 0 is a scalar). */
typedef struct {
  int32_t dtype; /* a stratum_dtype */
  int32_t rank;
  int64_t dims[STRATUM_MAX_RANK];
} stratum_tensor_desc;

typedef enum {
  STRATUM_ATTR_INT = 0,
  STRATUM_ATTR_FLOAT = 1,
  STRATUM_ATTR_INTS = 2,
  STRATUM_ATTR_STRING = 3,
  STRATUM_ATTR_BOOL = 4
} stratum_attr_kind;

/* One attribute of a node. Every attribute of the op is present, defaults filled in. */
typedef struct {
  const char* name;
  int32_t kind;        /* a stratum_attr_kind; says which field below holds the value */
  int64_t i;           /* INT, and BOOL as 0 or 1 */
  double f;            /* FLOAT */
  const int64_t* ints; /* INTS: n_ints values */
  int32_t n_ints;
  const char* s; /* STRING */
} stratum_attr;

/* One node: an op applied to values, which are indices into the subgraph's `values`. */
typedef struct {
  const char* op;    /* "conv2d", "batch_norm_grad", ... */
  const char* label; /* for messages: "conv2d -> %conv1" */
  int32_t n_inputs;
  const int32_t* inputs;
  int32_t n_outputs;
  const int32_t* outputs;
  int32_t n_attrs;
  const stratum_attr* attrs;
} stratum_node;

/* A subgraph to compile. `args` are the values bound to caller memory at run time: first every value the
 * subgraph reads but does not produce (its inputs), then every value it produces that is needed outside it
 * (its outputs). All other values are internal. */
typedef struct {
  int32_t n_values;
  const stratum_tensor_desc* values;
  int32_t n_nodes;
  const stratum_node* nodes; /* in an order that respects every dependency */
  int32_t n_inputs;          /* args[0 .. n_inputs) are read */
  int32_t n_args;            /* args[n_inputs .. n_args) are written */
  const int32_t* args;
} stratum_subgraph;

typedef struct stratum_program stratum_program; /* a compiled subgraph; the plugin defines it */

/* An op a plugin runs, with the schema it was built against: its input arity and attributes with their
 * defaults. backends/op_schemas.h, generated from Stratum's op registry, defines STRATUM_OP_<OP> as the
 * initialiser of each ({"conv2d", "2..4 inputs; stride:int list=[1,1]; ..."}); a plugin lists those of the
 * ops it runs. The loader refuses a plugin whose schema of any op differs from Stratum's (an attribute added,
 * renamed or given another default since the plugin was built), naming the op, and Stratum asks `supports`
 * only about the ops listed. */
typedef struct {
  const char* op;
  const char* schema;
} stratum_op_schema;

typedef struct {
  uint32_t abi_version;    /* STRATUM_PLUGIN_ABI_VERSION as the plugin was built */
  uint32_t struct_size;    /* sizeof(stratum_plugin) as the plugin was built: see "Growing" below */
  const char* name;        /* "onednn": the <name> of libstratum_<name>.so */
  const char* device_kind; /* "cpu" (memory the host can read) or "gpu" */
  const char* description; /* one line, for listings: "oneDNN 2.6 primitives, 16 threads" */
  int32_t n_op_schemas;
  const stratum_op_schema* op_schemas; /* the ops the plugin may support; see stratum_op_schema */

  /* Memory for args. `alloc` returns null on failure. The copies are synchronous. */
  void* (*alloc)(size_t bytes);
  void (*free)(void* ptr);
  int (*copy_from_host)(void* dst, const void* host_src, size_t bytes);
  int (*copy_to_host)(void* host_dst, const void* src, size_t bytes);
  int (*copy)(void* dst, const void* src, size_t bytes); /* device to device */

  /* Whether the plugin runs this node; values[0 .. n_values) are the types of the values the node's ids
   * index. Must not fail: unsupported nodes (an op, shape or attribute the plugin lacks, or an id out of
   * range) answer 0 and run on the reference backend. */
  int (*supports)(const stratum_node* node, const stratum_tensor_desc* values, int32_t n_values);

  /* Compiles a subgraph of supported nodes. The subgraph and its strings live only during the call. */
  stratum_program* (*compile)(const stratum_subgraph* graph);
  /* Runs a program: args[i] is the memory of the subgraph's args[i], n_args = the subgraph's n_args (a run
   * given another count fails). Runs are not concurrent. */
  int (*run)(stratum_program* program, void* const* args, int32_t n_args);
  void (*release)(stratum_program* program);

  /* Optional (may be null): milliseconds each node took in the last run, node order, n = n_nodes. A plugin
   * may start timing nodes only once asked (timing can slow a run: the cuDNN plugin then runs node by node
   * instead of replaying a CUDA graph); then a run before the first ask reports zeros. */
  int (*node_times)(stratum_program* program, double* ms, int32_t n);

  /* The message of the last failure on this thread. */
  const char* (*last_error)(void);

  /* Growing: fields added within version 1 go below, each optional. Stratum reads one only where the
   * plugin's struct_size covers it, so a plugin built before the field existed still loads; the fields above
   * are required (the loader refuses a smaller struct_size, a null string or function other than
   * node_times, or a device_kind other than "cpu" and "gpu"). */

  /* Optional: why the plugin cannot run on this machine (a GPU plugin where there is no device: "no CUDA
   * device (...)"), or null where it can. Stratum then reports the plugin as unavailable, which tools and
   * tests treat as a skip rather than a failure. */
  const char* (*unavailable)(void);

  /* Optional: the bytes `program` allocated for itself when it compiled (its arena: the subgraph's internal
   * values, temporaries, scratchpads, workspaces) and holds until released; not the args, which Stratum
   * allocates with `alloc`. Tools report it beside the memory plan's peak (//tools:bench). */
  size_t (*arena_bytes)(stratum_program* program);

  /* Optional, the two together: compile, told which inputs are constant: constant[i] for i < n_inputs is 1
   * where args[i] holds the same contents at every run until the caller calls refresh_constants (weights in
   * inference). The plugin may then derive from such an input once (a weight reordered into its own layout)
   * rather than at every run. refresh_constants: the constant inputs hold new contents from the next run on
   * (the caller loaded new weights). */
  stratum_program* (*compile_constant)(const stratum_subgraph* graph, const uint8_t* constant);
  int (*refresh_constants)(stratum_program* program);

  /* Optional: the communicator of the data-parallel job the process has joined (backends/communicator.h),
   * given before any compile. A plugin that lists allreduce reduces its args through it (a communicator
   * whose device_kind is the plugin's), inside its program, where it can overlap the rest; without one,
   * or before this call, the world is this process alone and allreduce copies. */
  int (*set_world)(const stratum_communicator* world);
} stratum_plugin;

typedef const stratum_plugin* (*stratum_plugin_entry_fn)(void);
#define STRATUM_PLUGIN_ENTRY "stratum_plugin_entry"

/* Whether `plugin` has `field`: whether its struct_size covers it. */
#define STRATUM_PLUGIN_HAS(plugin, field) \
  ((plugin)->struct_size >= offsetof(stratum_plugin, field) + sizeof((plugin)->field))

/* Helpers for plugin authors: attribute lookup by name (null when absent). */
static inline const stratum_attr* stratum_find_attr(const stratum_node* node, const char* name) {
  for (int32_t i = 0; i < node->n_attrs; ++i) {
    const char *a = node->attrs[i].name, *b = name;
    while (*a && *a == *b) ++a, ++b;
    if (*a == *b) return &node->attrs[i];
  }
  return 0;
}

/* Whether every input and output id of the node indexes one of n_values values: what `supports` checks
 * before it reads values[id]. */
static inline int stratum_node_ids_in_range(const stratum_node* node, int32_t n_values) {
  for (int32_t i = 0; i < node->n_inputs + node->n_outputs; ++i) {
    const int32_t id = i < node->n_inputs ? node->inputs[i] : node->outputs[i - node->n_inputs];
    if (id < 0 || id >= n_values) return 0;
  }
  return 1;
}

#ifdef __CUDACC__
#define STRATUM_INLINE static inline __host__ __device__
#else
#define STRATUM_INLINE static inline
#endif

/* splitmix64's finaliser: a bijection of 64-bit words that mixes every input bit into every output bit. */
STRATUM_INLINE uint64_t stratum_splitmix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Dropout's mask: whether element `index` (row-major) of a dropout with attributes seed and p, run with key
 * `key`, survives. A counter-based hash, so that every backend draws the same mask and the backward pass
 * recomputes it instead of storing it: u in [0,1) from the top 24 bits, kept iff u >= p. */
STRATUM_INLINE int stratum_dropout_keep(int64_t seed, int32_t key, int64_t index, double p) {
  uint64_t h = stratum_splitmix64((uint64_t)seed);
  h = stratum_splitmix64(h ^ (uint32_t)key);
  h = stratum_splitmix64(h ^ (uint64_t)index);
  return (double)(h >> 40) * (1.0 / (1 << 24)) >= p;
}

static inline int64_t stratum_num_elements(const stratum_tensor_desc* desc) {
  int64_t n = 1;
  for (int32_t i = 0; i < desc->rank; ++i) n *= desc->dims[i];
  return n;
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* STRATUM_BACKENDS_PLUGIN_H_ */
