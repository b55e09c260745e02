/* A plugin for the loader's tests: every required field set to a stub, built under several names, each
 * with one edit to the struct (TEST_PLUGIN_EDIT, a statement on `plugin`) that the loader must catch or
 * honour. */
#include <stddef.h>

#include "backends/op_schemas.h"
#include "backends/plugin.h"

#define STRINGIFY(x) #x
#define STRING(x) STRINGIFY(x)

static void* no_alloc(size_t bytes) { return 0; }
static void no_free(void* ptr) {}
static int no_copy(void* dst, const void* src, size_t bytes) { return 1; }
static int supports_nothing(const stratum_node* node, const stratum_tensor_desc* values, int32_t n_values) {
  return 0;
}
static stratum_program* no_compile(const stratum_subgraph* graph) { return 0; }
static int no_run(stratum_program* program, void* const* args, int32_t n_args) { return 1; }
static void no_release(stratum_program* program) {}
static const char* error(void) { return "the test plugin runs nothing"; }
static const char* away(void) { return "the test plugin is away"; }

/* relu as this Stratum declares it; relu with an attribute added, as if built against another Stratum; and
 * an op this Stratum lacks. */
static const stratum_op_schema schemas[] = {STRATUM_OP_RELU};
static const stratum_op_schema stale_schemas[] = {{"relu", "1 input; slope:float=0.0"}};
static const stratum_op_schema unknown_schemas[] = {{"no_such_op", "1 input"}};

const stratum_plugin* stratum_plugin_entry(void) {
  static stratum_plugin plugin = {
      .abi_version = STRATUM_PLUGIN_ABI_VERSION,
      .struct_size = sizeof(stratum_plugin),
      .name = STRING(TEST_PLUGIN_NAME),
      .device_kind = "cpu",
      .description = "a test plugin that runs nothing",
      .n_op_schemas = 1,
      .op_schemas = schemas,
      .alloc = no_alloc,
      .free = no_free,
      .copy_from_host = no_copy,
      .copy_to_host = no_copy,
      .copy = no_copy,
      .supports = supports_nothing,
      .compile = no_compile,
      .run = no_run,
      .release = no_release,
      .last_error = error,
  };
  TEST_PLUGIN_EDIT;
  return &plugin;
}
