// linear and its gradients as cuBLAS SGEMMs (plain FP32: cuBLAS's default math), the bias and a relu as one
// small kernel after the product. cuBLAS is column-major: a row-major [R,C] matrix is its [C,R] transpose,
// so each product below is written for the transposes.
#include "plugins/cudnn/ops.h"

namespace stratum::cudnn {

namespace {

// c [m,n] = op(a)·op(b) in cuBLAS's column-major terms, lda/ldb/ldc the leading dimensions.
struct Gemm {
  cublasOperation_t op_a, op_b;
  int m, n, k, lda, ldb, ldc;
};

void gemm(Compiler& c, Gemm g, Ref a, Ref b, Ref out) {
  c.add(
      [=](const RunContext& r) {
        const float one = 1.0f, zero = 0.0f;
        check(cublasSgemm(r.device.cublas, g.op_a, g.op_b, g.m, g.n, g.k, &one, r.at(a), g.lda, r.at(b),
                          g.ldb, &zero, r.at(out), g.ldc),
              "cublasSgemm");
      },
      {a, b, out});
}

// (x [N,K], w [M,K][, bias [M]]){relu} -> y [N,M]: yᵀ = w·xᵀ, with w as stored ([K,M] column-major) taken
// transposed.
void linear(const Node& node, Compiler& c) {
  const Shape& x = node.input(0)->type().shape;
  const int n = int(x[0]), k = int(x[1]), m = int(node.input(1)->type().shape[0]);
  const bool relu = flag(node, "relu");
  const Ref y = c.output(node.output());
  gemm(c, {CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, k, k, m}, c.input(node.input(1)), c.input(node.input(0)), y);
  const Ref bias = node.inputs().size() > 2 ? c.input(node.input(2)) : Ref{};
  if (!bias && !relu) return;
  const kernels::Channels channels{int64_t(n) * m, m, 1};
  c.add(
      [=](const RunContext& r) {
        kernels::bias_add(r.at(y), r.at(bias), nullptr, relu, channels, r.stream());
      },
      {bias, y});
}

// (dy [N,M], w [M,K]) -> dx = dy·w [N,K]: dxᵀ = wᵀ·dyᵀ.
void linear_grad_input(const Node& node, Compiler& c) {
  const Shape& dy = node.input(0)->type().shape;
  const int n = int(dy[0]), m = int(dy[1]), k = int(node.input(1)->type().shape[1]);
  gemm(c, {CUBLAS_OP_N, CUBLAS_OP_N, k, n, m, k, m, k}, c.input(node.input(1)), c.input(node.input(0)),
       c.output(node.output()));
}

// (dy [N,M], x [N,K]) -> dw = dyᵀ·x [M,K]: dwᵀ = xᵀ·dy.
void linear_grad_weight(const Node& node, Compiler& c) {
  const Shape& dy = node.input(0)->type().shape;
  const int n = int(dy[0]), m = int(dy[1]), k = int(node.input(1)->type().shape[1]);
  gemm(c, {CUBLAS_OP_N, CUBLAS_OP_T, k, m, n, k, m, k}, c.input(node.input(1)), c.input(node.input(0)),
       c.output(node.output()));
}

}  // namespace

void add_linear_ops(OpTable& table) {
  table["linear"] = linear;
  table["linear_grad_input"] = linear_grad_input;
  table["linear_grad_weight"] = linear_grad_weight;
}

}  // namespace stratum::cudnn
