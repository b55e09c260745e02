// The one error type of Stratum: a message that says what was wrong and where.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace stratum {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws Error with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace stratum
