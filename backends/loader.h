// Finds and loads backend plugins (backends/plugin.h) by name.
#pragma once

#include <string>
#include <vector>

#include "backends/communicator.h"
#include "backends/plugin.h"
#include "ir/error.h"

namespace stratum {

// Where plugins are looked for, in order: each folder of $STRATUM_PLUGIN_PATH (colon-separated), the
// folder of the running binary, and the plugins/<name>/ folders of its Bazel runfiles.
std::vector<std::string> plugin_search_path(const std::string& name);

// A plugin that loads but cannot run on this machine (its `unavailable` says why).
class PluginUnavailable : public Error {
 public:
  PluginUnavailable(const std::string& name, const std::string& reason)
      : Error("plugin '" + name + "' is unavailable here: " + reason), reason_(reason) {}
  const std::string& reason() const { return reason_; }

 private:
  std::string reason_;
};

// The plugin called `name`: "reference" is built in; any other is libstratum_<name>.so from the search
// path, loaded once and kept for the life of the process. Throws Error when the library is missing, does
// not load, lacks the entry point, speaks another ABI version (naming both versions and the plugins that
// are available) or fails check_plugin; throws PluginUnavailable when it loads but cannot run here.
const stratum_plugin& load_plugin(const std::string& name);

// Throws Error, starting with `where` and naming the field, unless every field of the plugin (of the ABI
// version it speaks) is usable: struct_size covers the required fields; name, device_kind and description
// are set; device_kind is "cpu" or "gpu"; every required function is set; and each op it lists is one of
// Stratum's with the same schema (ir/op.h's op_schema).
void check_plugin(const stratum_plugin& plugin, const std::string& where);

// The communicator called `name` (backends/communicator.h): libstratumcomm_<name>.so from the plugins'
// search path, loaded once. Error when it is missing (saying which build leaves it out), does not load,
// lacks the entry point or speaks another ABI version.
const stratum_communicator& load_communicator(const std::string& name);

// The names of the plugins on the search path, "reference" first.
std::vector<std::string> available_plugins();

}  // namespace stratum
