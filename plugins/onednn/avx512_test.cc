// The AVX-512 sigmoid of our own kernels against 1/(1 + e^-x) in double, over every float from -100 to 100
// in steps of 2^-10 and beyond, where the CPU has AVX-512.
#include "plugins/onednn/avx512.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace stratum::onednn {
namespace {

STRATUM_AVX512 void sigmoid_of(const float* x, float* y) { _mm512_storeu_ps(y, sigmoid(_mm512_loadu_ps(x))); }

TEST(Avx512, SigmoidWithinFourUlpNaNStaysNaN) {
  if (!cpu_has_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  constexpr float kInf = std::numeric_limits<float>::infinity();
  std::vector<float> x = {kInf, -kInf, 1e30f, -1e30f, 88.5f, -88.5f, 0.0f, -0.0f, 1e-30f, -1e-30f};
  for (float v = -100; v < 100; v += 1.0f / 1024) x.push_back(v);
  x.resize((x.size() + 15) / 16 * 16, 0.5f);
  std::vector<float> y(x.size());
  for (size_t i = 0; i < x.size(); i += 16) sigmoid_of(&x[i], &y[i]);
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = 1 / (1 + std::exp(-double(x[i])));
    // Below e^-88 (the clamp) the result is tiny rather than exact.
    const double error = want < 1e-38 ? (y[i] < 1e-37 ? 0 : 1) : std::abs(y[i] - want) / want;
    worst = std::max(worst, error);
    ASSERT_LE(error, 4 * std::numeric_limits<float>::epsilon()) << "sigmoid(" << x[i] << ") = " << y[i];
  }
  RecordProperty("worst_relative_error", std::to_string(worst));
  const float nan[16] = {std::numeric_limits<float>::quiet_NaN()};
  float out[16];
  sigmoid_of(nan, out);
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_EQ(out[1], 0.5f);
}

}  // namespace
}  // namespace stratum::onednn
