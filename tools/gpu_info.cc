// Prints the CUDA devices this machine has, or says there are none. Built only where CUDA was found.
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstdio>

int main() {
  std::printf("CUDA runtime %d, cuDNN %zu\n", CUDART_VERSION, cudnnGetVersion());
  int count = 0;
  if (cudaError_t error = cudaGetDeviceCount(&count); error != cudaSuccess) {
    std::printf("no CUDA device: %s\n", cudaGetErrorString(error));
    return 0;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    cudaGetDeviceProperties(&prop, i);
    std::printf("device %d: %s, sm_%d%d, %.1f GiB\n", i, prop.name, prop.major, prop.minor,
                prop.totalGlobalMem / double(1 << 30));
  }
  return 0;
}
