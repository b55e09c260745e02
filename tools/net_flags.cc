#include "tools/net_flags.h"

#include <filesystem>

#include "ir/error.h"

namespace stratum {

std::string model_flag(const Flags& flags) {
  if (!flags.is_set("model")) return "";
  const std::string path = std::filesystem::absolute(user_path(flags.get("model"))).string();
  if (!is_model_path(path)) fail("--model={}: not an ONNX file (FILE.onnx)", flags.get("model"));
  find_any_net(path);
  return path;
}

const NetDef& net_flag(const Flags& flags, const std::string& fallback) {
  if (flags.is_set("net") && flags.is_set("model")) fail("--net and --model both name a net; give one");
  return flags.is_set("model") ? find_any_net(model_flag(flags))
                               : find_net(flags.get("net").empty() ? fallback : flags.get("net"));
}

}  // namespace stratum
