/* A plugin that is only its identity, for the loader's tests: built under several names and ABI versions
 * (TEST_PLUGIN_NAME, TEST_PLUGIN_ABI) to check what the loader accepts before it calls anything else. */
#include "backends/plugin.h"

#define STRINGIFY(x) #x
#define STRING(x) STRINGIFY(x)

const stratum_plugin* stratum_plugin_entry(void) {
  static const stratum_plugin plugin = {
      .abi_version = TEST_PLUGIN_ABI,
      .name = STRING(TEST_PLUGIN_NAME),
      .device_kind = "cpu",
      .description = "a test plugin with no functions",
  };
  return &plugin;
}
