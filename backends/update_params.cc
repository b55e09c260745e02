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

// (w, dw, lr[, scale]), (w, dw, v, lr[, scale]), (w, dw, m, v, t, lr[, scale]): ir/ops/optimizer.cc.
StepInputs step_inputs(const Node& node) {
  const bool adam = node.op_name() == "adam_update";
  StepInputs s{adam ? 5u : node.op_name() == "momentum_update" ? 3u : 2u, std::nullopt, std::nullopt};
  if (node.inputs().size() > s.lr + 1) s.scale = s.lr + 1;
  if (adam) s.t = 4;
  return s;
}

}  // namespace stratum
