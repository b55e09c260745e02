/* The smallest useful Stratum plugin, in plain C against backends/plugin.h alone: a few f32 elementwise ops
 * and the SGD update on host memory. Every other node answers 0 in supports() and runs on the reference
 * backend. docs/writing-a-plugin.md walks through this file. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, which -std=c11 alone hides */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/op_schemas.h"
#include "backends/plugin.h"

/* Errors: the message of the last failure, one per thread, so that a failure on one thread cannot replace the
 * message another thread is about to read. */
static _Thread_local char last_error[512];

static void set_error(const char* format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(last_error, sizeof last_error, format, args);
  va_end(args);
}

static const char* get_last_error(void) { return last_error; }

/* Memory: plain host memory, so Stratum can read args directly. aligned_alloc wants a nonzero multiple of
 * the alignment; 64 bytes is a cache line and the widest vector register. */
static void* host_alloc(size_t bytes) { return aligned_alloc(64, bytes == 0 ? 64 : (bytes + 63) / 64 * 64); }
static void host_free(void* ptr) { free(ptr); }
static int host_copy(void* dst, const void* src, size_t bytes) {
  memcpy(dst, src, bytes);
  return 0;
}

typedef enum { OP_RELU, OP_SIGMOID, OP_ADD, OP_RELU_GRAD, OP_SIGMOID_GRAD, OP_COUNT } op_kind;

/* One node of a compiled program, holding everything run needs: the subgraph it came from is gone once
 * compile returns. */
typedef struct {
  op_kind op;
  int32_t in[2]; /* value ids; unary ops use in[0] only */
  int32_t out;
  int64_t n; /* elements */
} step;

/* The kernels compute in double and round once, as the reference backend does, so results match it. */
static void relu(const step* s, const float* x, const float* unused, float* y) {
  for (int64_t i = 0; i < s->n; ++i) y[i] = x[i] > 0 ? x[i] : 0.0f;
}
static void sigmoid(const step* s, const float* x, const float* unused, float* y) {
  for (int64_t i = 0; i < s->n; ++i) y[i] = (float)(1 / (1 + exp(-(double)x[i])));
}
static void add(const step* s, const float* a, const float* b, float* y) {
  for (int64_t i = 0; i < s->n; ++i) y[i] = (float)((double)a[i] + b[i]);
}
/* (dy, y) -> dy·[y>0] */
static void relu_grad(const step* s, const float* dy, const float* y, float* dx) {
  for (int64_t i = 0; i < s->n; ++i) dx[i] = y[i] > 0 ? dy[i] : 0.0f;
}
/* (dy, y) -> dy·y·(1-y) */
static void sigmoid_grad(const step* s, const float* dy, const float* y, float* dx) {
  for (int64_t i = 0; i < s->n; ++i) dx[i] = (float)((double)dy[i] * y[i] * (1 - (double)y[i]));
}

/* The ops we run, with the schemas (arity, attributes and their defaults) our kernels assume, from
 * backends/op_schemas.h. Stratum refuses to load the plugin if its schema of one of them has changed since,
 * and asks supports() only about these ops. */
static const stratum_op_schema kSchemas[OP_COUNT] = {
    [OP_RELU] = STRATUM_OP_RELU,
    [OP_SIGMOID] = STRATUM_OP_SIGMOID,
    [OP_ADD] = STRATUM_OP_ADD,
    [OP_RELU_GRAD] = STRATUM_OP_RELU_GRAD,
    [OP_SIGMOID_GRAD] = STRATUM_OP_SIGMOID_GRAD,
};

static const struct {
  int32_t n_inputs;
  void (*kernel)(const step* s, const float* a, const float* b, float* y);
} kOps[OP_COUNT] = {
    [OP_RELU] = {1, relu},           [OP_SIGMOID] = {1, sigmoid},           [OP_ADD] = {2, add},
    [OP_RELU_GRAD] = {2, relu_grad}, [OP_SIGMOID_GRAD] = {2, sigmoid_grad},
};

static op_kind find_op(const char* name) {
  for (int32_t k = 0; k < OP_COUNT; ++k) {
    if (strcmp(kSchemas[k].op, name) == 0) return (op_kind)k;
  }
  return OP_COUNT;
}

/* Yes for our ops on f32 values of one size. Shape inference already guarantees the sizes; checking them,
 * and that every id indexes one of the n_values values, costs nothing and keeps the kernels' one loop safe
 * whatever the caller sends. */
static int supports(const stratum_node* node, const stratum_tensor_desc* values, int32_t n_values) {
  const op_kind op = find_op(node->op);
  if (op == OP_COUNT || node->n_inputs != kOps[op].n_inputs || node->n_outputs != 1) return 0;
  if (!stratum_node_ids_in_range(node, n_values)) return 0;
  const stratum_tensor_desc* out = &values[node->outputs[0]];
  if (out->dtype != STRATUM_F32) return 0;
  for (int32_t i = 0; i < node->n_inputs; ++i) {
    const stratum_tensor_desc* in = &values[node->inputs[i]];
    if (in->dtype != STRATUM_F32 || stratum_num_elements(in) != stratum_num_elements(out)) return 0;
  }
  /* A fused relu (conv2d, linear, add, batch_norm carry a `relu` attribute) is not ours to run. */
  const stratum_attr* relu = stratum_find_attr(node, "relu");
  if (relu != NULL && relu->i != 0) return 0;
  return 1;
}

struct stratum_program {
  int32_t n_steps;
  step* steps;
  double* ms; /* each step's time in the last run */
  int32_t n_values;
  float** buffers; /* the internal values' memory, allocated by compile; null for args */
  float** values;  /* each value's memory during a run: the buffers, and the args run was given */
  int32_t n_args;
  int32_t* arg_ids;
};

static void release(stratum_program* p) {
  if (p == NULL) return;
  for (int32_t v = 0; p->buffers != NULL && v < p->n_values; ++v) host_free(p->buffers[v]);
  free(p->steps);
  free(p->ms);
  free(p->buffers);
  free(p->values);
  free(p->arg_ids);
  free(p);
}

/* Copies the nodes into steps; nonzero, with last_error set, when one is not ours. */
static int copy_nodes(stratum_program* p, const stratum_subgraph* graph) {
  for (int32_t i = 0; i < graph->n_nodes; ++i) {
    const stratum_node* node = &graph->nodes[i];
    if (!supports(node, graph->values, graph->n_values)) {
      set_error("%s: the example plugin does not run this node", node->label);
      return 1;
    }
    step* s = &p->steps[i];
    s->op = find_op(node->op);
    for (int32_t j = 0; j < node->n_inputs; ++j) s->in[j] = node->inputs[j];
    s->out = node->outputs[0];
    s->n = stratum_num_elements(&graph->values[s->out]);
  }
  return 0;
}

static int is_arg(const stratum_subgraph* graph, int32_t value) {
  for (int32_t i = 0; i < graph->n_args; ++i) {
    if (graph->args[i] == value) return 1;
  }
  return 0;
}

/* One buffer per internal value, allocated here because run must not allocate. A real plugin would share
 * buffers between values whose lifetimes do not overlap; the example keeps it simple. */
static int plan_buffers(stratum_program* p, const stratum_subgraph* graph) {
  for (int32_t v = 0; v < graph->n_values; ++v) {
    if (is_arg(graph, v)) continue;
    p->buffers[v] = host_alloc((size_t)stratum_num_elements(&graph->values[v]) * sizeof(float));
    if (p->buffers[v] == NULL) {
      set_error("out of memory for value %d of %d", v, graph->n_values);
      return 1;
    }
    p->values[v] = p->buffers[v];
  }
  return 0;
}

/* A program with its arrays allocated and its args noted; null, with last_error set, when out of memory. */
static stratum_program* new_program(const stratum_subgraph* graph) {
  stratum_program* p = calloc(1, sizeof *p);
  if (p != NULL) {
    p->n_steps = graph->n_nodes;
    p->n_values = graph->n_values;
    p->n_args = graph->n_args;
    p->steps = calloc((size_t)graph->n_nodes, sizeof *p->steps);
    p->ms = calloc((size_t)graph->n_nodes, sizeof *p->ms);
    p->buffers = calloc((size_t)graph->n_values, sizeof *p->buffers);
    p->values = calloc((size_t)graph->n_values, sizeof *p->values);
    p->arg_ids = calloc((size_t)graph->n_args, sizeof *p->arg_ids);
  }
  if (p == NULL || !p->steps || !p->ms || !p->buffers || !p->values || !p->arg_ids) {
    set_error("out of memory compiling %d nodes", graph->n_nodes);
    release(p);
    return NULL;
  }
  memcpy(p->arg_ids, graph->args, (size_t)graph->n_args * sizeof *p->arg_ids);
  return p;
}

static stratum_program* compile(const stratum_subgraph* graph) {
  stratum_program* p = new_program(graph);
  if (p != NULL && copy_nodes(p, graph) == 0 && plan_buffers(p, graph) == 0) return p;
  release(p);
  return NULL;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int run(stratum_program* p, void* const* args, int32_t n_args) {
  if (n_args != p->n_args) {
    set_error("run: given %d args, the program has %d", n_args, p->n_args);
    return 1;
  }
  for (int32_t i = 0; i < p->n_args; ++i) p->values[p->arg_ids[i]] = args[i];
  for (int32_t i = 0; i < p->n_steps; ++i) {
    const step* s = &p->steps[i];
    const double start = now_ms();
    kOps[s->op].kernel(s, p->values[s->in[0]], p->values[s->in[1]], p->values[s->out]);
    p->ms[i] = now_ms() - start;
  }
  return 0;
}

static int node_times(stratum_program* p, double* ms, int32_t n) {
  if (n != p->n_steps) {
    set_error("node_times: given %d nodes, the program has %d", n, p->n_steps);
    return 1;
  }
  memcpy(ms, p->ms, (size_t)n * sizeof *ms);
  return 0;
}

const stratum_plugin* stratum_plugin_entry(void) {
  static const stratum_plugin plugin = {
      .abi_version = STRATUM_PLUGIN_ABI_VERSION,
      .struct_size = sizeof(stratum_plugin),
      .name = "example",
      .device_kind = "cpu",
      .description = "the plugin example: f32 relu, sigmoid, add and their gradients in C",
      .n_op_schemas = OP_COUNT,
      .op_schemas = kSchemas,
      .alloc = host_alloc,
      .free = host_free,
      .copy_from_host = host_copy,
      .copy_to_host = host_copy,
      .copy = host_copy,
      .supports = supports,
      .compile = compile,
      .run = run,
      .release = release,
      .node_times = node_times,
      .last_error = get_last_error,
  };
  return &plugin;
}
