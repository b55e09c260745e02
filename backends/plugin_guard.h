// For plugins written in C++: no exception may cross the C ABI (backends/plugin.h), so each entry point
// runs its body through guarded(), which turns one into a nonzero status and the thread's last error.
#pragma once

#include <exception>
#include <string>

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

}  // namespace stratum
