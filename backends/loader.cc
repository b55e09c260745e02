#include "backends/loader.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <string_view>
#include <utility>

#include "backends/reference/plugin.h"
#include "ir/error.h"
#include "ir/op.h"

namespace stratum {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "libstratum_", kSuffix = ".so";

std::string library_file(const std::string& name) {
  return std::string(kPrefix) + name + std::string(kSuffix);
}

// The plugin name of a library file name, or "" when it is none.
std::string plugin_name(const std::string& file) {
  if (file.size() <= kPrefix.size() + kSuffix.size() || file.rfind(kPrefix, 0) != 0 ||
      file.compare(file.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
    return "";
  }
  return file.substr(kPrefix.size(), file.size() - kPrefix.size() - kSuffix.size());
}

fs::path executable_path() {
  std::error_code error;
  return fs::read_symlink("/proc/self/exe", error);
}

// Folders that may hold plugins of any name: $STRATUM_PLUGIN_PATH's, then the binary's own.
std::vector<fs::path> shared_dirs() {
  std::vector<fs::path> dirs;
  if (const char* path = std::getenv("STRATUM_PLUGIN_PATH")) {
    const std::string list = path;
    for (size_t start = 0; start <= list.size();) {
      const size_t end = std::min(list.find(':', start), list.size());
      if (end > start) dirs.emplace_back(list.substr(start, end - start));
      start = end + 1;
    }
  }
  dirs.push_back(executable_path().parent_path());
  return dirs;
}

// The plugins/ folders of the runfiles Bazel may have made for this binary (bazel run, bazel test); each
// plugin sits in plugins/<name>/.
std::vector<fs::path> runfiles_plugin_roots() {
  std::vector<fs::path> roots;
  for (const char* variable : {"RUNFILES_DIR", "TEST_SRCDIR"}) {
    if (const char* dir = std::getenv(variable)) roots.push_back(fs::path(dir) / "stratum" / "plugins");
  }
  roots.push_back(fs::path(executable_path().string() + ".runfiles") / "stratum" / "plugins");
  return roots;
}

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

[[noreturn]] void fail_loading(const std::string& message) {
  fail("{}; available plugins: {}", message, joined(available_plugins()));
}

// Closes a library when it goes out of scope, until it proves to be what it claims (then library = null).
struct LibraryCloser {
  void* library = nullptr;
  ~LibraryCloser() {
    if (library != nullptr) dlclose(library);
  }
};

// Opens `file` from the first folder of plugin_search_path(name) that has it, into `closer` and `path`, and
// returns its entry point `symbol`. Error, naming it as a `kind` (plugin, communicator), when no folder has
// it, it does not load or it lacks the entry point.
void* open_entry(const std::string& name, const std::string& file, const char* kind, const char* symbol,
                 LibraryCloser& closer, fs::path& path) {
  std::vector<std::string> tried;
  for (const std::string& dir : plugin_search_path(name)) {
    path = fs::path(dir) / file;
    tried.push_back(dir);
    if (!fs::exists(path)) continue;
    closer.library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (closer.library == nullptr)
      fail("cannot load {} '{}' from {}: {}", kind, name, path.string(), dlerror());
    void* entry = dlsym(closer.library, symbol);
    if (entry == nullptr) fail("{} is no Stratum {}: it has no entry point {}", path.string(), kind, symbol);
    return entry;
  }
  fail("no {} '{}': {} is in none of {}", kind, name, file, joined(tried));
}

const stratum_plugin& open_plugin(const std::string& name) {
  LibraryCloser closer;
  fs::path path;
  stratum_plugin_entry_fn entry = nullptr;
  try {
    entry = reinterpret_cast<stratum_plugin_entry_fn>(
        open_entry(name, library_file(name), "plugin", STRATUM_PLUGIN_ENTRY, closer, path));
  } catch (const Error& e) {
    fail_loading(e.what());
  }
  const stratum_plugin* plugin = entry();
  if (plugin == nullptr || plugin->abi_version != STRATUM_PLUGIN_ABI_VERSION) {
    fail_loading(fmt::format(
        "plugin '{}' ({}) was built for plugin ABI version {}, but this Stratum speaks version {}", name,
        path.string(), plugin == nullptr ? 0 : plugin->abi_version, STRATUM_PLUGIN_ABI_VERSION));
  }
  check_plugin(*plugin, fmt::format("plugin '{}' ({})", name, path.string()));
  if (name != plugin->name)
    fail_loading(fmt::format("{} calls itself '{}', not '{}'", path.string(), plugin->name, name));
  // Kept for the life of the process, unavailable too: unloading the CUDA runtime strands what it
  // allocated (LeakSanitizer reports it).
  closer.library = nullptr;
  const bool can_say = STRATUM_PLUGIN_HAS(plugin, unavailable) && plugin->unavailable != nullptr;
  if (const char* reason = can_say ? plugin->unavailable() : nullptr) throw PluginUnavailable(name, reason);
  return *plugin;
}

// The items ("; "-separated) of schema `a` that `b` lacks, for saying what differs.
std::string items_missing(const std::string& a, const std::string& b) {
  std::vector<std::string> missing;
  for (size_t start = 0; start <= a.size();) {
    const size_t end = std::min(a.find("; ", start), a.size());
    const std::string item = a.substr(start, end - start);
    if (("; " + b + "; ").find("; " + item + "; ") == std::string::npos) missing.push_back(item);
    start = end + 2;
  }
  return joined(missing);
}

void check_op_schemas(const stratum_plugin& plugin, const std::string& where) {
  if (plugin.n_op_schemas < 0 || (plugin.n_op_schemas > 0 && plugin.op_schemas == nullptr))
    fail("{}: op_schemas is null or n_op_schemas ({}) negative", where, plugin.n_op_schemas);
  for (int32_t i = 0; i < plugin.n_op_schemas; ++i) {
    const stratum_op_schema& s = plugin.op_schemas[i];
    if (s.op == nullptr || s.schema == nullptr) fail("{}: op_schemas[{}] has a null op or schema", where, i);
    const OpDef* op = find_op(s.op);
    if (op == nullptr) fail("{}: lists op '{}', which this Stratum does not have", where, s.op);
    const std::string ours = op_schema(*op);
    if (ours != s.schema) {
      fail(
          "{}: op '{}' was built against another schema of it (rebuild the plugin): only the plugin has "
          "'{}'; "
          "only this Stratum has '{}'",
          where, s.op, items_missing(s.schema, ours), items_missing(ours, s.schema));
    }
  }
}

}  // namespace

void check_plugin(const stratum_plugin& plugin, const std::string& where) {
  constexpr size_t kRequiredSize = offsetof(stratum_plugin, unavailable);  // up to last_error
  if (plugin.struct_size < kRequiredSize) {
    fail(
        "{}: struct_size is {}, but plugin ABI version {} needs at least {} (built against an older "
        "plugin.h?)",
        where, plugin.struct_size, STRATUM_PLUGIN_ABI_VERSION, kRequiredSize);
  }
  for (const auto& [field, text] : {std::pair{"name", plugin.name},
                                    {"device_kind", plugin.device_kind},
                                    {"description", plugin.description}}) {
    if (text == nullptr) fail("{}: {} is null", where, field);
  }
  if (std::string_view(plugin.device_kind) != "cpu" && std::string_view(plugin.device_kind) != "gpu")
    fail("{}: device_kind is '{}', not cpu or gpu", where, plugin.device_kind);
  const std::pair<const char*, bool> functions[] = {// node_times and unavailable are optional
                                                    {"alloc", plugin.alloc != nullptr},
                                                    {"free", plugin.free != nullptr},
                                                    {"copy_from_host", plugin.copy_from_host != nullptr},
                                                    {"copy_to_host", plugin.copy_to_host != nullptr},
                                                    {"copy", plugin.copy != nullptr},
                                                    {"supports", plugin.supports != nullptr},
                                                    {"compile", plugin.compile != nullptr},
                                                    {"run", plugin.run != nullptr},
                                                    {"release", plugin.release != nullptr},
                                                    {"last_error", plugin.last_error != nullptr}};
  for (const auto& [function, present] : functions) {
    if (!present) fail("{}: required function '{}' is null", where, function);
  }
  check_op_schemas(plugin, where);
}

std::vector<std::string> plugin_search_path(const std::string& name) {
  std::vector<std::string> dirs;
  for (const fs::path& dir : shared_dirs()) dirs.push_back(dir.string());
  for (const fs::path& root : runfiles_plugin_roots()) dirs.push_back((root / name).string());
  return dirs;
}

const stratum_plugin& load_plugin(const std::string& name) {
  if (name == "reference") return reference_plugin();
  static std::mutex mutex;
  static std::map<std::string, const stratum_plugin*> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = loaded.find(name);
  if (it == loaded.end()) it = loaded.emplace(name, &open_plugin(name)).first;
  return *it->second;
}

const stratum_communicator& load_communicator(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, const stratum_communicator*> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = loaded.find(name); it != loaded.end()) return *it->second;
  LibraryCloser closer;
  fs::path path;
  stratum_communicator_entry_fn entry = nullptr;
  try {
    entry = reinterpret_cast<stratum_communicator_entry_fn>(open_entry(
        name, "libstratumcomm_" + name + ".so", "communicator", STRATUM_COMMUNICATOR_ENTRY, closer, path));
  } catch (const Error& e) {
    fail(
        "{} (a communicator is built only where its library is found: tools/setup.sh installs OpenMPI for "
        "mpi)",
        e.what());
  }
  const stratum_communicator* communicator = entry();
  if (communicator == nullptr || communicator->abi_version != STRATUM_COMMUNICATOR_ABI_VERSION ||
      communicator->struct_size < offsetof(stratum_communicator, allreduce_async)) {
    fail(
        "communicator '{}' ({}) speaks communicator ABI version {} with a {}-byte table; this Stratum speaks "
        "version {} ({} bytes)",
        name, path.string(), communicator == nullptr ? 0 : communicator->abi_version,
        communicator == nullptr ? 0 : communicator->struct_size, STRATUM_COMMUNICATOR_ABI_VERSION,
        sizeof(stratum_communicator));
  }
  closer.library = nullptr;  // kept for the life of the process
  return *loaded.emplace(name, communicator).first->second;
}

std::vector<std::string> available_plugins() {
  std::vector<fs::path> dirs = shared_dirs();
  std::error_code error;
  for (const fs::path& root : runfiles_plugin_roots()) {
    for (const auto& entry : fs::directory_iterator(root, error)) dirs.push_back(entry.path());
  }
  std::vector<std::string> names;
  for (const fs::path& dir : dirs) {
    for (const auto& entry : fs::directory_iterator(dir, error)) {
      std::string name = plugin_name(entry.path().filename().string());
      if (!name.empty()) names.push_back(std::move(name));
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  names.insert(names.begin(), "reference");
  return names;
}

}  // namespace stratum
