// Short runs on the reference backend with real Fashion-MNIST (Debian's dataset-fashion-mnist).
#include "train/trainer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "backends/reference/plugin.h"
#include "data/fashion_mnist.h"
#include "ir/error.h"
#include "train/files.h"

namespace stratum {
namespace {

std::string temp_dir(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

TrainOptions quick(const std::string& out, int64_t epochs) {
  TrainOptions options;
  options.data_dir = kFashionMnistDir;
  options.out = temp_dir(out);
  options.epochs = epochs;
  options.batch = 32;
  options.limit = 512;
  options.seed = 7;
  options.progress = false;
  return options;
}

void expect_same_state(const Store& a, const Store& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) {
    ASSERT_EQ(tensor.type(), b.at(name).type()) << name;
    EXPECT_EQ(std::memcmp(tensor.data(), b.at(name).data(), tensor.type().bytes()), 0) << name << " differs";
  }
}

TEST(Trainer, LossFallsAndTheRunIsWritten) {
  TrainOptions options = quick("falls", 3);
  options.net = "bn_lenet";  // learns within a few hundred examples, where LeNet's sigmoids still stall
  const TrainResult result = train(options, reference_plugin());
  ASSERT_EQ(result.epochs.size(), 3u);
  EXPECT_LT(result.epochs[2].loss, result.epochs[0].loss * 0.9);
  EXPECT_GT(result.epochs[2].test_acc, 0.3);
  for (const char* file : {"metrics.csv", "curves.svg", "train.ir", "checkpoint.ckpt"}) {
    EXPECT_TRUE(std::filesystem::exists(options.out + "/" + file)) << file;
  }
  EXPECT_NE(read_file(options.out + "/curves.svg").find("<polyline"), std::string::npos);
  const std::string metrics = read_file(options.out + "/metrics.csv");
  EXPECT_EQ(std::count(metrics.begin(), metrics.end(), '\n'), 4) << metrics;
}

TEST(Trainer, ResumeIsBitIdenticalToAnUninterruptedRun) {
  const TrainResult whole = train(quick("whole", 2), reference_plugin());
  train(quick("split", 1), reference_plugin());
  TrainOptions rest = quick("split", 2);
  rest.resume = rest.out;
  const TrainResult resumed = train(rest, reference_plugin());
  expect_same_state(whole.state, resumed.state);
  ASSERT_EQ(resumed.epochs.size(), 2u);
  EXPECT_EQ(resumed.epochs[1].loss, whole.epochs[1].loss);
  EXPECT_EQ(resumed.epochs[1].test_acc, whole.epochs[1].test_acc);
}

TEST(Trainer, ANonFiniteLossNamesTheStepAndTheNode) {
  TrainOptions options = quick("nan", 1);
  options.lr = 1e300;  // the first update takes the weights to infinity
  try {
    train(options, reference_plugin());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("step "), std::string::npos) << message;
    EXPECT_NE(message.find("the first node with a non-finite output is"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace stratum
