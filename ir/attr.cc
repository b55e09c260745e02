#include "ir/attr.h"

#include <fmt/format.h>

namespace stratum {

const char* attr_kind_name(AttrKind kind) {
  static const char* const kNames[] = {"int", "float", "int list", "string", "bool"};
  return kNames[static_cast<int>(kind)];
}

namespace {

std::string float_str(double value) {
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";  // 'n': inf and nan
  return text;
}

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string attr_str(const Attr& attr) {
  switch (attr_kind(attr)) {
    case AttrKind::kInt:
      return std::to_string(std::get<int64_t>(attr));
    case AttrKind::kFloat:
      return float_str(std::get<double>(attr));
    case AttrKind::kInts:
      return fmt::format("[{}]", fmt::join(std::get<Ints>(attr), ","));
    case AttrKind::kString:
      return quoted(std::get<std::string>(attr));
    case AttrKind::kBool:
      return std::get<bool>(attr) ? "true" : "false";
  }
  return "";
}

}  // namespace stratum
