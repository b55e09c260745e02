// Helpers shared by tests: the message an Error carries, temporary paths, stores compared bit for bit.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "backends/tensor.h"
#include "ir/error.h"

namespace stratum::testing {

// The message of the Error `f` throws, or "" when it throws none.
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// `name` in the test's temporary folder ($TEST_TMPDIR, else /tmp).
inline std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

// The same tensors under the same names, bit for bit.
inline void expect_bit_equal(const std::map<std::string, Tensor>& got,
                             const std::map<std::string, Tensor>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, tensor] : want) {
    const Tensor& other = got.at(name);
    ASSERT_EQ(other.type(), tensor.type()) << name;
    EXPECT_EQ(std::memcmp(other.data(), tensor.data(), tensor.type().bytes()), 0) << name << " differs";
  }
}

}  // namespace stratum::testing
