#include "onnx/model_nets.h"

#include <map>
#include <mutex>

#include "ir/error.h"

namespace stratum {

namespace {

std::map<std::string, OnnxNet>& imported() {
  static std::map<std::string, OnnxNet> nets;
  return nets;
}

}  // namespace

bool is_model_path(const std::string& name) {
  return name.size() > 5 && name.compare(name.size() - 5, 5, ".onnx") == 0;
}

const NetDef& find_any_net(const std::string& name) {
  if (!is_model_path(name)) return find_net(name);
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = imported().find(name);
  if (it == imported().end())
    it = imported().emplace(name, onnx_net(std::make_shared<OnnxModel>(read_onnx(name)), kModelRecipe)).first;
  return it->second.net;
}

const Store* model_weights(const NetDef& net) {
  for (const auto& [path, model] : imported())
    if (&model.net == &net) return &model.weights;
  return nullptr;
}

void use_model_weights(const NetDef& net, Store& state) {
  const Store* weights = model_weights(net);
  if (weights == nullptr) return;
  for (const auto& [name, value] : *weights) {
    auto it = state.find(name);
    if (it == state.end() || it->second.type() != value.type())
      fail("{}: the model's {} {} is not in the step", net.description, name, type_str(value.type()));
    it->second = value;
  }
}

}  // namespace stratum
