#include "backends/update_params.h"

namespace stratum {

UpdateParams update_params(const Node& node) {
  UpdateParams p;
  auto read = [&node](const char* name, auto& field) {
    auto attr = node.attrs().find(name);
    if (attr != node.attrs().end()) field = std::get<std::decay_t<decltype(field)>>(attr->second);
  };
  read("weight_decay", p.weight_decay);
  read("decoupled", p.decoupled);
  read("momentum", p.momentum);
  read("nesterov", p.nesterov);
  read("beta1", p.beta1);
  read("beta2", p.beta2);
  read("eps", p.eps);
  return p;
}

}  // namespace stratum
