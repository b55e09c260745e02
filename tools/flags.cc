#include "tools/flags.h"

#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

#include "ir/error.h"
#include "passes/pass.h"

namespace stratum {

void Flags::add(const std::string& name, std::string default_value, std::string help) {
  flags_[name] = {std::move(default_value), std::move(help)};
}

void Flags::parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << usage();
      std::exit(0);
    }
    if (arg.rfind("--", 0) != 0) {
      positional_.push_back(arg);
      continue;
    }
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    auto it = flags_.find(name);
    if (it == flags_.end()) usage_error(fmt::format("unknown flag --{}", name));
    it->second.value = eq == std::string::npos ? "true" : arg.substr(eq + 1);
    it->second.set = true;
  }
}

const std::string& Flags::get(const std::string& name) const { return flags_.at(name).value; }

bool Flags::is_set(const std::string& name) const { return flags_.at(name).set; }

bool Flags::get_bool(const std::string& name) const {
  const std::string& value = get(name);
  if (value == "true" || value == "1") return true;
  if (value == "false" || value == "0" || value.empty()) return false;
  usage_error(fmt::format("--{} takes true or false, got '{}'", name, value));
}

double Flags::get_float(const std::string& name) const {
  const std::string& value = get(name);
  char* end = nullptr;
  const double result = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0') usage_error(fmt::format("--{} takes a number, got '{}'", name, value));
  return result;
}

int64_t Flags::get_int(const std::string& name) const {
  const std::string& value = get(name);
  char* end = nullptr;
  const int64_t result = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0') usage_error(fmt::format("--{} takes an integer, got '{}'", name, value));
  return result;
}

int64_t Flags::get_int_in(const std::string& name, int64_t low, int64_t high) const {
  const int64_t value = get_int(name);
  if (value < low || value > high)
    usage_error(fmt::format("--{} must be between {} and {}, got {}", name, low, high, value));
  return value;
}

std::string Flags::usage() const {
  std::string text = usage_ + "\n\nflags:\n";
  for (const auto& [name, flag] : flags_) {
    const std::string default_text = flag.value.empty() ? "" : fmt::format(" (default {})", flag.value);
    text += fmt::format("  --{:<14} {}{}\n", name, flag.help, default_text);
  }
  return text;
}

void Flags::usage_error(const std::string& message) const {
  std::cerr << "error: " << message << "\n\n" << usage();
  std::exit(2);
}

void check_no_positional(const Flags& flags) {
  if (!flags.positional().empty())
    fail("unexpected argument '{}': flags take their value after '=', as --batch=4", flags.positional()[0]);
}

std::vector<std::string> name_list(const Flags& flags, const std::string& flag) {
  std::vector<std::string> names;
  for (std::string_view name : split_top_level(flags.get(flag))) names.emplace_back(name);
  if (names.empty()) fail("--{} names nothing", flag);
  return names;
}

std::string user_path(const std::string& path) {
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || cwd == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

int run_tool(int argc, char** argv, int (*run)(int, char**)) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace stratum
