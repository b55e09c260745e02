#include "plugins/cudnn/device.h"

#include "ir/error.h"

namespace stratum::cudnn {

namespace {

// cuBLAS's workspace, ours so that a captured CUDA graph never asks it to allocate (32 MiB: NVIDIA's
// advice for Hopper).
constexpr size_t kCublasWorkspace = 32 << 20;

Device make_device() {
  Device d{};
  check(cudaSetDevice(0), "cudaSetDevice");
  check(cudaStreamCreateWithFlags(&d.stream, cudaStreamNonBlocking), "cudaStreamCreate");
  check(cudnnCreate(&d.cudnn), "cudnnCreate");
  check(cudnnSetStream(d.cudnn, d.stream), "cudnnSetStream");
  check(cublasCreate(&d.cublas), "cublasCreate");
  check(cublasSetStream(d.cublas, d.stream), "cublasSetStream");
  void* workspace = nullptr;
  check(cudaMalloc(&workspace, kCublasWorkspace), "cudaMalloc (cuBLAS workspace)");
  check(cublasSetWorkspace(d.cublas, workspace, kCublasWorkspace), "cublasSetWorkspace");
  return d;  // kept for the life of the process
}

}  // namespace

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) fail("{}: {}", what, cudaGetErrorString(status));
}

void check(cudnnStatus_t status, const char* what) {
  if (status != CUDNN_STATUS_SUCCESS) fail("{}: {}", what, cudnnGetErrorString(status));
}

void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) fail("{}: {}", what, cublasGetStatusString(status));
}

std::string unavailable_reason() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess)
    return fmt::format("no CUDA device (cudaGetDeviceCount: {})", cudaGetErrorString(status));
  if (count == 0) return "no CUDA device (cudaGetDeviceCount: 0 devices)";
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return "cudaGetDeviceProperties failed";
  if (prop.major < 9)  // the kernels are sm_90 code and compute_90 PTX
    return fmt::format("{} is sm_{}{}; this build runs on sm_90 (Hopper) or newer", prop.name, prop.major,
                       prop.minor);
  return "";
}

const Device& device() {
  static const Device d = make_device();
  return d;
}

}  // namespace stratum::cudnn
