// Finds and loads backend plugins (backends/plugin.h) by name.
#pragma once

#include <string>
#include <vector>

#include "backends/plugin.h"

namespace stratum {

// Where plugins are looked for, in order: each folder of $STRATUM_PLUGIN_PATH (colon-separated), the
// folder of the running binary, and the plugins/<name>/ folders of its Bazel runfiles.
std::vector<std::string> plugin_search_path(const std::string& name);

// The plugin called `name`: "reference" is built in; any other is libstratum_<name>.so from the search
// path, loaded once and kept for the life of the process. Throws Error when the library is missing, does
// not load, lacks the entry point or speaks another ABI version, naming both versions and the plugins that
// are available.
const stratum_plugin& load_plugin(const std::string& name);

// The names of the plugins on the search path, "reference" first.
std::vector<std::string> available_plugins();

}  // namespace stratum
