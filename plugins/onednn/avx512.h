// Our own kernels' AVX-512: functions compiled for it whatever the build's target (the STRATUM_AVX512
// attribute), called only where the CPU has it (cpu_has_avx512).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <initializer_list>

// GCC 12 warns inside its own AVX-512 headers (their _mm512_undefined_ps: GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#define STRATUM_AVX512 __attribute__((target("avx512f,fma")))

namespace stratum::onednn {

inline bool cpu_has_avx512() { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma"); }

// The first n lanes of 16 (none for n <= 0).
STRATUM_AVX512 inline __mmask16 first_lanes(int64_t n) {
  return n >= 16 ? __mmask16(0xffff) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}

// 1/(1 + e^-x) within a few ulp, NaN staying NaN: e^-x (clamped to e^±88) as 2^n·e^r with n = round(-x·log2
// e) and r = -x - n·ln 2 (ln 2 in two parts), e^r by Cephes' expf polynomial.
STRATUM_AVX512 inline __m512 sigmoid(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  // max_ps and min_ps return their second operand where either is NaN.
  const __m512 t = _mm512_min_ps(
      _mm512_set1_ps(88.0f), _mm512_max_ps(_mm512_set1_ps(-88.0f), _mm512_sub_ps(_mm512_setzero_ps(), x)));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(t, _mm512_set1_ps(1.44269504089f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), t);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  for (const float c :
       {1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f}) {
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
  }
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, one));
  // 1/d as rcp14's estimate and a Newton step (a division costs more than the rest together).
  const __m512 d = _mm512_add_ps(one, _mm512_scalef_ps(p, n)), estimate = _mm512_rcp14_ps(d);
  return _mm512_mul_ps(estimate, _mm512_fnmadd_ps(d, estimate, _mm512_set1_ps(2.0f)));
}

// What a kernel of ours applies to its outputs before it stores them.
enum class Activation { kNone, kRelu, kSigmoid };

STRATUM_AVX512 inline __m512 activate(__m512 v, Activation a) {
  if (a == Activation::kRelu) return _mm512_max_ps(v, _mm512_setzero_ps());
  if (a == Activation::kSigmoid) return sigmoid(v);
  return v;
}

}  // namespace stratum::onednn
