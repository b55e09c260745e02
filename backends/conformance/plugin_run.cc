#include "backends/conformance/plugin_run.h"

#include <cstring>

#include "ir/error.h"

namespace stratum::conformance {

namespace {

constexpr size_t kGuard = 64;  // keeps the arg itself 64-byte aligned
constexpr char kPattern = static_cast<char>(0xA5);

}  // namespace

PluginRun::PluginRun(const stratum_plugin& plugin, const SubgraphDesc& desc) : plugin_(plugin), desc_(desc) {
  for (const Value* v : desc.args()) {
    const size_t bytes = v->type().bytes();
    auto* base = static_cast<char*>(plugin.alloc(bytes + 2 * kGuard));
    if (base == nullptr) fail("{}: alloc of {} bytes failed", plugin.name, bytes + 2 * kGuard);
    args_.push_back({v->type(), base});
    const std::vector<char> pattern(bytes + 2 * kGuard, kPattern);
    if (plugin.copy_from_host(base, pattern.data(), pattern.size()))
      fail("{}: {}", plugin.name, plugin.last_error());
  }
  program_ = plugin.compile(&desc.subgraph());
  if (program_ == nullptr) fail("{}: compile failed: {}", plugin.name, plugin.last_error());
}

PluginRun::~PluginRun() {
  if (program_ != nullptr) plugin_.release(program_);
  for (const Arg& arg : args_) plugin_.free(arg.base);
}

std::vector<Tensor> PluginRun::run(const std::vector<const Tensor*>& inputs) {
  const size_t n_inputs = desc_.subgraph().n_inputs;
  std::vector<void*> pointers;
  for (size_t i = 0; i < args_.size(); ++i) {
    pointers.push_back(args_[i].base + kGuard);
    if (i < n_inputs && plugin_.copy_from_host(pointers[i], inputs[i]->data(), args_[i].type.bytes())) {
      fail("{}: {}", plugin_.name, plugin_.last_error());
    }
  }
  if (plugin_.run(program_, pointers.data(), static_cast<int32_t>(pointers.size())))
    fail("{}: run failed: {}", plugin_.name, plugin_.last_error());
  std::vector<Tensor> outputs;
  for (size_t i = 0; i < args_.size(); ++i) {
    const size_t bytes = args_[i].type.bytes();
    std::vector<char> host(bytes + 2 * kGuard);
    if (plugin_.copy_to_host(host.data(), args_[i].base, host.size()))
      fail("{}: {}", plugin_.name, plugin_.last_error());
    check_guards(args_[i], host, i);
    if (i < n_inputs) {
      if (std::memcmp(host.data() + kGuard, inputs[i]->data(), bytes) != 0) {
        fail("{} wrote into input %{} ({})", plugin_.name, desc_.args()[i]->name(), type_str(args_[i].type));
      }
      continue;
    }
    Tensor& out = outputs.emplace_back(args_[i].type);
    std::memcpy(out.data(), host.data() + kGuard, bytes);
  }
  return outputs;
}

void PluginRun::check_guards(const Arg& arg, const std::vector<char>& host, size_t index) const {
  const size_t bytes = arg.type.bytes();
  for (size_t i = 0; i < kGuard; ++i) {
    if (host[i] != kPattern || host[kGuard + bytes + i] != kPattern) {
      fail("{} wrote {} the bytes of arg {} ({})", plugin_.name, host[i] != kPattern ? "before" : "past",
           index, type_str(arg.type));
    }
  }
}

}  // namespace stratum::conformance
