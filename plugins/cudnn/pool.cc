// max_pool and avg_pool through cuDNN's pooling (max: padding never wins, and the deterministic backward;
// avg: padded positions count in the divisor unless count_include_pad is false), global_avg_pool as plane
// means. cuDNN's pooling backward reads the forward's y, which max_pool_grad recomputes into a buffer.
//
// The pooling calls are deprecated in cuDNN 9 in favour of the graph API; they are used for the same
// reason as the legacy convolution calls (conv.cc).
#include "plugins/cudnn/ops.h"

namespace stratum::cudnn {

namespace {

const float kOne = 1.0f, kZero = 0.0f;

struct PoolDescs {
  Descriptor<cudnnPoolingDescriptor_t> pool;
  Descriptor<cudnnTensorDescriptor_t> x, y;
};

PoolDescs descs_of(const Node& node, cudnnPoolingMode_t mode, const Shape& x, const Shape& y) {
  PoolDescs d{make_descriptor(cudnnCreatePoolingDescriptor, cudnnDestroyPoolingDescriptor), tensor_desc(x),
              tensor_desc(y)};
  const Ints &k = node.attr_ints("kernel"), &s = node.attr_ints("stride"), &p = node.attr_ints("padding");
  check(cudnnSetPooling2dDescriptor(d.pool.get(), mode, CUDNN_NOT_PROPAGATE_NAN, int(k[0]), int(k[1]),
                                    int(p[0]), int(p[1]), int(s[0]), int(s[1])),
        "cudnnSetPooling2dDescriptor");
  return d;
}

void pool_forward(Compiler& c, const PoolDescs& d, Ref x, Ref y) {
  c.add(
      [=](const RunContext& r) {
        check(cudnnPoolingForward(r.device.cudnn, d.pool.get(), &kOne, d.x.get(), r.at(x), &kZero, d.y.get(),
                                  r.at(y)),
              "cudnnPoolingForward");
      },
      {x, y});
}

void pool_backward(Compiler& c, const PoolDescs& d, Ref y, Ref dy, Ref x, Ref dx) {
  c.add(
      [=](const RunContext& r) {
        check(cudnnPoolingBackward(r.device.cudnn, d.pool.get(), &kOne, d.y.get(), r.at(y), d.y.get(),
                                   r.at(dy), d.x.get(), r.at(x), &kZero, d.x.get(), r.at(dx)),
              "cudnnPoolingBackward");
      },
      {y, dy, x, dx});
}

Shape input_shape(const Node& node) {
  const Ints& shape = node.attr_ints("input_shape");
  return Shape(shape.begin(), shape.end());
}

void max_pool(const Node& node, Compiler& c) {
  pool_forward(c,
               descs_of(node, CUDNN_POOLING_MAX_DETERMINISTIC, node.input(0)->type().shape,
                        node.output()->type().shape),
               c.input(node.input(0)), c.output(node.output()));
}

// (dy, x) -> dx
void max_pool_grad(const Node& node, Compiler& c) {
  const PoolDescs d = descs_of(node, CUDNN_POOLING_MAX_DETERMINISTIC, node.input(1)->type().shape,
                               node.input(0)->type().shape);
  const Ref x = c.input(node.input(1)), y = c.buffer(node.input(0)->type().bytes());
  pool_forward(c, d, x, y);
  pool_backward(c, d, y, c.input(node.input(0)), x, c.output(node.output()));
}

// avg_pool's divisor: the kernel area (PyTorch's default), or the window's elements that are not padding.
cudnnPoolingMode_t average_of(const Node& node) {
  return node.attr_bool("count_include_pad") ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                             : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
}

void avg_pool(const Node& node, Compiler& c) {
  pool_forward(c, descs_of(node, average_of(node), node.input(0)->type().shape, node.output()->type().shape),
               c.input(node.input(0)), c.output(node.output()));
}

// dy -> dx. Average pooling's backward reads neither x nor y: dy and dx stand in for them.
void avg_pool_grad(const Node& node, Compiler& c) {
  const PoolDescs d = descs_of(node, average_of(node), input_shape(node), node.input(0)->type().shape);
  const Ref dy = c.input(node.input(0)), dx = c.output(node.output());
  pool_backward(c, d, dy, dy, dx, dx);
}

void global_avg_pool(const Node& node, Compiler& c) {
  const Shape& x = node.input(0)->type().shape;
  const Ref in = c.input(node.input(0)), out = c.output(node.output());
  const int64_t planes = x[0] * x[1], plane = x[2] * x[3];
  c.add([=](const RunContext& r) { kernels::plane_mean(r.at(in), r.at(out), planes, plane, r.stream()); },
        {in, out});
}

void global_avg_pool_grad(const Node& node, Compiler& c) {
  const Shape x = input_shape(node);
  const Ref dy = c.input(node.input(0)), dx = c.output(node.output());
  const int64_t planes = x[0] * x[1], plane = x[2] * x[3];
  c.add([=](const RunContext& r) { kernels::plane_mean_grad(r.at(dy), r.at(dx), planes, plane, r.stream()); },
        {dy, dx});
}

}  // namespace

void add_pool_ops(OpTable& table) {
  table["max_pool"] = max_pool;
  table["max_pool_grad"] = max_pool_grad;
  table["avg_pool"] = avg_pool;
  table["avg_pool_grad"] = avg_pool_grad;
  table["global_avg_pool"] = global_avg_pool;
  table["global_avg_pool_grad"] = global_avg_pool_grad;
}

}  // namespace stratum::cudnn
