// Helpers for plugins written in C++. No exception may cross the C ABI (backends/plugin.h), so each entry
// point runs its body through guarded(), which turns one into a nonzero status and the thread's last
// error; and a cpu plugin's memory is the host's, 64-byte aligned.
#pragma once

#include <cstdlib>
#include <cstring>
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

// The memory functions of a cpu plugin. A zero-byte request still gets a buffer, as null means failure.
inline void* host_alloc(size_t bytes) {
  return std::aligned_alloc(64, bytes == 0 ? 64 : (bytes + 63) / 64 * 64);
}
inline void host_free(void* ptr) { std::free(ptr); }
inline int host_copy(void* dst, const void* src, size_t bytes) {
  std::memcpy(dst, src, bytes);
  return 0;
}

}  // namespace stratum
