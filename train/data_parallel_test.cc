// Data-parallel training against one process, run by data_parallel_test.sh as 2 ranks under mpirun (each
// rank runs every test; rank 0 also trains the one-process runs it compares with, and checks).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "backends/loader.h"
#include "backends/testing.h"
#include "backends/world.h"
#include "data/fashion_mnist.h"
#include "train/run_state.h"
#include "train/trainer.h"

namespace stratum {
namespace {

using testing::temp_path;

constexpr int64_t kBatch = 64, kSteps = 10;  // steps an epoch

TrainOptions run_options(const std::string& name, int64_t epochs, bool data_parallel,
                         const std::string& net = "lenet") {
  TrainOptions options;
  options.net = net;
  options.data_dir = kFashionMnistDir;
  options.out = temp_path(name);
  options.epochs = epochs;
  options.batch = kBatch;
  options.limit = kBatch * kSteps;
  options.seed = 3;
  options.progress = false;
  options.data_parallel = data_parallel;
  return options;
}

TrainResult run(TrainOptions options) { return train(options, load_plugin("onednn")); }

// oneDNN leaving batch norm to the reference backend, as it does a synchronised one: their f32 and f64
// statistics take BN-LeNet's weights 4e-4 apart in 20 steps, so --sync-bn is compared with this.
const stratum_plugin& onednn_without_batch_norm() {
  static const stratum_plugin plugin = [] {
    stratum_plugin p = load_plugin("onednn");
    p.name = "onednn_without_batch_norm";
    p.supports = [](const stratum_node* node, const stratum_tensor_desc* values, int32_t n_values) {
      const std::string op = node->op;
      if (op.rfind("batch_norm", 0) == 0 || op.rfind("conv_bn", 0) == 0) return 0;
      return load_plugin("onednn").supports(node, values, n_values);
    };
    return p;
  }();
  return plugin;
}

TrainResult resumed(TrainOptions options, const std::string& from) {
  options.resumed = load_resume_checkpoint(temp_path(from));
  return run(options);
}

// Every param and state tensor of `a` within 1e-6 of `b`'s, relative: ‖a - b‖ ≤ 1e-6·‖b‖ (2-norms).
void expect_same_weights(const Store& a, const Store& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, expected] : b) {
    const Tensor& got = a.at(name);
    ASSERT_EQ(got.type(), expected.type()) << name;
    double norm = 0, difference = 0;
    for (int64_t i = 0; i < expected.size(); ++i) {
      norm += double(expected.f32()[i]) * expected.f32()[i];
      difference += std::pow(double(got.f32()[i]) - expected.f32()[i], 2);
    }
    EXPECT_LE(std::sqrt(difference), 1e-6 * std::sqrt(norm)) << name;
  }
}

bool leader() { return world().rank() == 0; }

TEST(DataParallel, TwoRanksTrainAsOneProcessOnTheWholeBatch) {
  TrainResult alone, shard_alone;
  if (leader()) {
    alone = run(run_options("alone", 2, false));
    // What rank 0 would reach on its half of each batch without the allreduce: another result entirely.
    TrainOptions half = run_options("half", 2, false);
    half.batch = kBatch / 2;
    half.limit = kBatch / 2 * kSteps;
    shard_alone = run(half);
  }
  const TrainResult together = run(run_options("together", 2, true));
  if (!leader()) return;
  expect_same_weights(together.state, alone.state);
  EXPECT_GT(std::abs(together.state.at("fc3.weight").f32()[0] - shard_alone.state.at("fc3.weight").f32()[0]),
            1e-4);
  // The metrics are the whole batch's, summed over the ranks.
  ASSERT_EQ(together.epochs.size(), 2u);
  EXPECT_NEAR(together.epochs[1].loss, alone.epochs[1].loss, 1e-5);
  EXPECT_EQ(together.epochs[1].train_acc, alone.epochs[1].train_acc);
  EXPECT_EQ(together.epochs[1].test_acc, alone.epochs[1].test_acc);
}

// BN-LeNet: with --sync-bn, 2 ranks' weights and batch-norm running statistics are one process's; without,
// each rank's statistics are its own part's (as PyTorch DDP's), and so rank 0's differ. At lr 0.01: behind a
// synchronised batch norm the ranks' weight gradients of conv1 largely cancel in their average, so f32
// rounding weighs more, in proportion to the lr (measured: lr 1.0, the recipe's, 1e-5 apart; lr 0.1, 1.2e-6).
TEST(DataParallel, SyncBnMatchesOneProcessAndLocalStatisticsDoNot) {
  Store alone;
  TrainOptions options = run_options("bn_alone", 2, false, "bn_lenet");
  options.lr = 0.01;
  if (leader()) alone = train(options, onednn_without_batch_norm()).state;
  TrainOptions synced = options;
  synced.out = temp_path("bn_synced");
  synced.data_parallel = synced.sync_bn = true;
  const Store together = run(synced).state;
  TrainOptions local_statistics = synced;
  local_statistics.out = temp_path("bn_local");
  local_statistics.sync_bn = false;
  const Store local = run(local_statistics).state;
  if (!leader()) return;
  expect_same_weights(together, alone);
  const Tensor& mean = local.at("bn1.running_mean");
  double difference = 0;
  for (int64_t i = 0; i < mean.size(); ++i)
    difference =
        std::max(difference, double(std::abs(mean.f32()[i] - alone.at("bn1.running_mean").f32()[i])));
  EXPECT_GT(difference, 1e-4);
}

// A run checkpointed after its first epoch continues at the other world size: 2 ranks after 1 process, and 1
// process after 2 ranks, each reaching the uninterrupted run's weights.
TEST(DataParallel, ResumesAtTheOtherWorldSize) {
  Store uninterrupted, two_after_one;
  if (leader()) {
    uninterrupted = run(run_options("whole", 2, false)).state;
    run(run_options("first_alone", 1, false));
  }
  check_world(world().barrier(), "barrier");  // rank 0's checkpoint is written
  two_after_one = resumed(run_options("first_alone", 2, true), "first_alone").state;
  run(run_options("first_together", 1, true));
  if (!leader()) return;
  const Store one_after_two = resumed(run_options("first_together", 2, false), "first_together").state;
  expect_same_weights(two_after_one, uninterrupted);
  expect_same_weights(one_after_two, uninterrupted);
}

}  // namespace
}  // namespace stratum

// Joins the job mpirun started (the MPI communicator from the runfiles) for every test, and leaves it after.
int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  stratum::join_world(stratum::load_communicator("mpi"), 120);
  if (stratum::world().size() != 2) {
    std::fprintf(stderr, "data_parallel_test runs as 2 ranks (mpirun -np 2), not %d\n",
                 stratum::world().size());
    return 1;
  }
  const int status = RUN_ALL_TESTS();
  stratum::leave_world();
  return status;
}
