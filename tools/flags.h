// Command-line flags for the tools: --name=value, --name (for booleans) and positional arguments.
// Unknown flags and malformed values are errors that name the flag and show the usage.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace stratum {

class Flags {
 public:
  // `usage` is printed by --help and after an error.
  explicit Flags(std::string usage) : usage_(std::move(usage)) {}

  // Declares a flag with its default ("" for none) and a one-line help text.
  void add(const std::string& name, std::string default_value, std::string help);
  // Parses argv; on --help prints the usage and exits 0, on an error prints it with the usage and exits 2.
  void parse(int argc, char** argv);

  const std::string& get(const std::string& name) const;
  bool is_set(const std::string& name) const;  // given on the command line
  bool get_bool(const std::string& name) const;
  double get_float(const std::string& name) const;
  int64_t get_int(const std::string& name) const;
  // get_int, and an error naming the flag and the range when the value is outside [low, high].
  int64_t get_int_in(const std::string& name, int64_t low, int64_t high) const;
  const std::vector<std::string>& positional() const { return positional_; }

  // The usage text, with every flag, its default and help.
  std::string usage() const;

 private:
  struct Flag {
    std::string value, help;
    bool set = false;
  };
  [[noreturn]] void usage_error(const std::string& message) const;

  std::string usage_;
  std::map<std::string, Flag> flags_;
  std::vector<std::string> positional_;
};

// Error when there are positional arguments (a value given as "--batch 4" instead of "--batch=4").
void check_no_positional(const Flags& flags);
// Each name of a comma-separated list, trimmed; Error naming the flag when the list is empty.
std::vector<std::string> name_list(const Flags& flags, const std::string& flag);

// A path as the user meant it: relative paths are taken from where `bazel run` was started.
std::string user_path(const std::string& path);

// A tool's main: runs run(argc, argv) and returns its status, or prints "error: ..." and returns 2 when
// it throws (as for bad command lines).
int run_tool(int argc, char** argv, int (*run)(int, char**));

}  // namespace stratum
