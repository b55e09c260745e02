// Our own kernels' AVX-512: functions compiled for it whatever the build's target (the STRATUM_AVX512
// attribute), called only where the CPU has it (cpu_has_avx512).
#pragma once

#include <immintrin.h>

#include <cstdint>

// GCC 12 warns inside its own AVX-512 headers (their _mm512_undefined_ps: GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#define STRATUM_AVX512 __attribute__((target("avx512f,fma")))

namespace stratum::onednn {

inline bool cpu_has_avx512() { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma"); }

// The first n lanes of 16 (none for n <= 0).
STRATUM_AVX512 inline __mmask16 first_lanes(int64_t n) {
  return n >= 16 ? __mmask16(0xffff) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}

}  // namespace stratum::onednn
