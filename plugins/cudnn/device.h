// The GPU the plugin runs on: status checks that throw Error, cuDNN descriptors that destroy themselves,
// and the one stream and library handles every program shares.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <memory>
#include <string>
#include <type_traits>

namespace stratum::cudnn {

// Each throws Error "<what>: <the library's message>" unless the status is success.
void check(cudaError_t status, const char* what);
void check(cudnnStatus_t status, const char* what);
void check(cublasStatus_t status, const char* what);

// Why the plugin cannot run here ("no CUDA device (cudaGetDeviceCount: ...)"), or "" when it can.
std::string unavailable_reason();

// The process's stream and handles, made on first use (on device 0), all bound to the stream.
struct Device {
  cudaStream_t stream;
  cudnnHandle_t cudnn;
  cublasHandle_t cublas;
};
const Device& device();

// A cuDNN descriptor (cudnnTensorDescriptor_t, ...) destroyed with its last copy.
template <typename T>
using Descriptor = std::shared_ptr<std::remove_pointer_t<T>>;

template <typename T>
Descriptor<T> make_descriptor(cudnnStatus_t (*create)(T*), cudnnStatus_t (*destroy)(T)) {
  T raw;
  check(create(&raw), "creating a cuDNN descriptor");
  return Descriptor<T>(raw, destroy);
}

}  // namespace stratum::cudnn
