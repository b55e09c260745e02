// Data-parallel training's collective: the gradients of every rank reduced to one (passes/data_parallel.h
// inserts it; backends/world.h says over which processes).
#include "ir/ops/common.h"

namespace stratum::ops {

namespace {

// (x_1, ..., x_k) -> (y_1, ..., y_k), each y_i of x_i's type
std::vector<TensorType> infer_allreduce(const OpCall& call) {
  for (const TensorType& x : call.inputs) expect_dtype(x, DType::f32, "every input");
  const std::string& reduce = std::get<std::string>(call.attrs.at("reduce"));
  if (reduce != "sum" && reduce != "mean") fail("reduce must be sum or mean, got '{}'", reduce);
  const std::string& group = std::get<std::string>(call.attrs.at("group"));
  if (group != "world") fail("group must be world (every rank of the job), got '{}'", group);
  return call.inputs;
}

}  // namespace

void add_collective_ops(OpList& ops) {
  ops.push_back({"allreduce",
                 1,
                 -1,
                 {{"reduce", AttrKind::kString, std::string("mean")},
                  {"group", AttrKind::kString, std::string("world")}},
                 infer_allreduce,
                 nullptr,
                 {},
                 "data parallelism: (x_1, ..., x_k) -> each x_i summed (or averaged) over the group's ranks",
                 {
                     {{f32({6, 1, 5, 5}), f32({6}), f32({10, 7})}},
                     {{f32({3, 4})}, {{"reduce", std::string("sum")}}},
                 }});
}

}  // namespace stratum::ops
