#include "passes/pass.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "ir/error.h"

namespace stratum {

namespace {

std::map<std::string, PassFactory, std::less<>>& registry() {
  static auto* factories = new std::map<std::string, PassFactory, std::less<>>;
  return *factories;
}

std::string_view trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\n");
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t\n") - begin + 1);
}

// "lr=0.1" into options; `spec` is for the message.
void add_option(std::string_view spec, std::string_view item, PassOptions& options) {
  const size_t equals = item.find('=');
  const std::string key(trim(item.substr(0, std::min(equals, item.size()))));
  if (equals == std::string_view::npos || key.empty()) {
    fail("pass spec '{}': expected key=value, got '{}'", spec, item);
  }
  if (!options.emplace(key, trim(item.substr(equals + 1))).second) {
    fail("pass spec '{}': option '{}' is given twice", spec, key);
  }
}

}  // namespace

void register_pass(std::string name, PassFactory factory) {
  if (registry().count(name)) fail("pass '{}' is registered twice", name);
  registry().emplace(std::move(name), std::move(factory));
}

std::vector<std::string> registered_passes() {
  std::vector<std::string> names;
  for (const auto& entry : registry()) names.push_back(entry.first);
  return names;
}

std::vector<std::string_view> split_top_level(std::string_view text) {
  std::vector<std::string_view> items;
  if (trim(text).empty()) return items;
  int depth = 0;
  size_t begin = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    const char c = i < text.size() ? text[i] : ',';
    if (c == '(') ++depth;
    if (c == ')' && --depth < 0) fail("'{}': unbalanced ')'", text);
    if (c != ',' || depth > 0) continue;
    items.push_back(trim(text.substr(begin, i - begin)));
    begin = i + 1;
  }
  if (depth > 0) fail("'{}': unbalanced '('", text);
  return items;
}

std::unique_ptr<Pass> make_pass(std::string_view spec) {
  const std::string_view text = trim(spec);
  const size_t open = text.find('(');
  const std::string_view name = trim(text.substr(0, open));
  if (name.empty()) fail("pass spec '{}': the pass name is missing", spec);
  PassOptions options;
  if (open != std::string_view::npos) {
    if (text.back() != ')') fail("pass spec '{}': expected ')' at the end", spec);
    const std::string_view body = text.substr(open + 1, text.size() - open - 2);
    for (std::string_view item : split_top_level(body)) add_option(spec, item, options);
  }
  auto it = registry().find(name);
  if (it == registry().end()) {
    fail("unknown pass '{}' (known passes: {})", name, fmt::join(registered_passes(), ", "));
  }
  return it->second(options);
}

void check_options(std::string_view pass, const PassOptions& options, const std::vector<std::string>& known) {
  for (const auto& entry : options) {
    if (std::find(known.begin(), known.end(), entry.first) != known.end()) continue;
    fail("pass {}: unknown option '{}' (known options: {})", pass, entry.first,
         known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", ")));
  }
}

double float_option(std::string_view pass, const PassOptions& options, const std::string& key,
                    double fallback) {
  auto it = options.find(key);
  if (it == options.end()) return fallback;
  const char* text = it->second.c_str();
  char* end = nullptr;
  const double value = std::strtod(text, &end);
  if (it->second.empty() || *end != '\0' || !std::isfinite(value)) {
    fail("pass {}: option {} must be a number, got '{}'", pass, key, it->second);
  }
  return value;
}

bool is_pointwise_conv(const Node& node) {
  if (node.op_name() != "conv2d") return false;
  const Shape& w = node.input(1)->type().shape;
  const Ints& padding = node.attr_ints("padding");
  return w[2] == 1 && w[3] == 1 && node.attr_ints("stride") == Ints{1, 1} &&
         std::all_of(padding.begin(), padding.end(), [](int64_t p) { return p == 0; });
}

}  // namespace stratum
