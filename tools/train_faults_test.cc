// tools/train as a user runs it, with what goes wrong in real runs: killed with SIGKILL at moments spread
// over the run and just as it writes a checkpoint, then resumed with --resume=RUN_DIR alone, each resumed
// run must end with the weights of an uninterrupted run, bit for bit; a file size limit (a full disk) while
// it writes a checkpoint must leave the one before intact and say so; bad flags are errors naming them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "backends/testing.h"
#include "train/checkpoint.h"
#include "train/files.h"

namespace stratum {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::string kTmp = std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp";

// LeNet, 2 epochs of 32 steps of 64, checkpointing every 3 steps.
std::vector<std::string> run_args(const std::string& dir) {
  return {"--net=lenet", "--limit=2048",         "--batch=64",  "--epochs=2",
          "--seed=3",    "--checkpoint-every=3", "--out=" + dir};
}

// Starts tools/train with `args`, its output in `log`, under a file size limit when `max_file_bytes` > 0.
pid_t start_train(const std::vector<std::string>& args, const std::string& log, rlim_t max_file_bytes = 0) {
  const std::string binary = std::string(std::getenv("TEST_SRCDIR")) + "/stratum/tools/train";
  const pid_t pid = fork();
  if (pid == 0) {
    if (max_file_bytes > 0) {
      const rlimit limit{max_file_bytes, max_file_bytes};
      setrlimit(RLIMIT_FSIZE, &limit);
    }
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv{const_cast<char*>(binary.c_str())};
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// The exit status of a finished train, or -1 when a signal ended it.
int wait_for(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int train(const std::vector<std::string>& args, const std::string& log, rlim_t max_file_bytes = 0) {
  return wait_for(start_train(args, log, max_file_bytes));
}

void expect_same_weights(const std::string& dir, const std::string& want_dir) {
  const Checkpoint got = load_checkpoint(dir + "/checkpoint.ckpt");
  const Checkpoint want = load_checkpoint(want_dir + "/checkpoint.ckpt");
  EXPECT_EQ(got.header.at("step"), want.header.at("step"));
  testing::expect_bit_equal(got.tensors, want.tensors);
}

// Waits until train creates the temporary file of its `nth` checkpoint, then kills it: in the middle of
// writing, flushing or checking that checkpoint. False when the run ended first.
bool kill_while_checkpointing(pid_t pid, const std::string& dir, int nth) {
  const int watch = inotify_init1(IN_NONBLOCK);
  inotify_add_watch(watch, dir.c_str(), IN_CREATE);
  char events[4096];
  int seen = 0;
  while (seen < nth) {
    const ssize_t n = read(watch, events, sizeof(events));
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(events + at);
      if (event->len > 0 && std::strcmp(event->name, "checkpoint.ckpt.tmp") == 0) ++seen;
      at += sizeof(inotify_event) + event->len;
    }
    if (seen < nth && waitpid(pid, nullptr, WNOHANG) != 0) break;
    if (n <= 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  close(watch);
  kill(pid, SIGKILL);
  wait_for(pid);
  return seen == nth;
}

// The run without a break, made once; its wall-clock seconds.
double uninterrupted(const std::string& dir) {
  static const double seconds = [&] {
    const auto start = Clock::now();
    EXPECT_EQ(train(run_args(dir), dir + ".log"), 0) << read_file(dir + ".log");
    return std::chrono::duration<double>(Clock::now() - start).count();
  }();
  return seconds;
}

TEST(TrainFaults, EveryKilledRunResumesToTheWeightsOfAnUninterruptedOne) {
  const std::string whole = kTmp + "/whole";
  const double seconds = uninterrupted(whole);
  std::mt19937 rng(std::random_device{}());
  int resumed_from_a_checkpoint = 0;
  for (int i = 0; i < 10; ++i) {
    const std::string dir = kTmp + "/killed" + std::to_string(i), log = dir + ".log";
    fs::create_directories(dir);
    const pid_t pid = start_train(run_args(dir), log);
    std::string moment;
    if (i % 2 == 0) {  // at a random moment of its i/2-th fifth
      const double at = seconds * (i / 2 + std::uniform_real_distribution<double>(0, 1)(rng)) / 5;
      std::this_thread::sleep_for(std::chrono::duration<double>(at));
      kill(pid, SIGKILL);
      wait_for(pid);
      moment = fmt::format("{:.3f} s in", at);
    } else {  // as it writes a random one of its checkpoints
      const int nth = std::uniform_int_distribution<int>(1, 20)(rng);
      ASSERT_TRUE(kill_while_checkpointing(pid, dir, nth)) << read_file(log);
      moment = fmt::format("writing checkpoint {}", nth);
    }
    SCOPED_TRACE("killed " + moment);
    if (train({"--resume=" + dir}, log) != 0) {
      const std::string said = read_file(log);
      ASSERT_NE(said.find("no checkpoint yet: "), std::string::npos) << said;
      ASSERT_EQ(train(run_args(dir), log), 0) << read_file(log);
    } else {
      ++resumed_from_a_checkpoint;
    }
    expect_same_weights(dir, whole);
  }
  EXPECT_GE(resumed_from_a_checkpoint, 5);
}

TEST(TrainFaults, AFullDiskKeepsTheCheckpointBeforeAndSaysSo) {
  const std::string dir = kTmp + "/full", log = dir + ".log";
  std::vector<std::string> args = run_args(dir);
  args.push_back("--epochs=1");
  args.push_back("--checkpoint-every=1h");
  ASSERT_EQ(train(args, log), 0) << read_file(log);
  const std::string before = read_file(dir + "/checkpoint.ckpt");
  // Room for train.ir and the metrics, not for the 250 KB of weights.
  EXPECT_EQ(train({"--resume=" + dir, "--epochs=2"}, log, 100000), 2);
  const std::string said = read_file(log);
  EXPECT_NE(said.find("cannot save the checkpoint: cannot write " + dir +
                      "/checkpoint.ckpt.tmp: File too large; "
                      "the checkpoint before it is intact"),
            std::string::npos)
      << said;
  EXPECT_EQ(read_file(dir + "/checkpoint.ckpt"), before);
  EXPECT_FALSE(fs::exists(dir + "/checkpoint.ckpt.tmp"));
}

TEST(TrainFaults, FlagsOutOfRangeOrContradictingTheRunAreErrors) {
  const std::string log = kTmp + "/flags.log";
  uninterrupted(kTmp + "/whole");
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"--batch=-5"}, "--batch must be between 1 and 1048576, got -5"},
      {{"--batch=0"}, "--batch must be between 1 and 1048576, got 0"},
      {{"--lr=-1"}, "--lr must be a positive number, got -1"},
      {{"--epochs=0"}, "--epochs must be between 1 and"},
      {{"--threads=0"}, "--threads must be between 1 and"},
      {{"--sync-bn"}, "--sync-bn is for --data-parallel runs (under mpirun)"},
      {{"--timeout=5"}, "--timeout is for --data-parallel runs"},
      {{"--data-parallel", "--timeout=0"}, "--timeout must be a positive number of seconds, got 0"},
      {{"--data-parallel", "--communicator=nosuch"}, "no communicator 'nosuch'"},
      {{"--seed=-1"}, "--seed must be between 0 and"},
      {{"--checkpoint-every=soon"}, "--checkpoint-every takes a duration"},
      {{"--crop-padding=15"}, "--crop-padding must be between 0 and 14, got 15"},
      {{"--flip=maybe"}, "--flip takes true or false, got 'maybe'"},
      {{"--limit=1000", "--val=-1"}, "--val must be between 0 and 744, got -1"},
      {{"--resume=" + kTmp + "/whole", "--flip"}, "the run being resumed has flip=false, not true as given"},
      {{"--resume=" + kTmp + "/nowhere"}, "there is no such run directory or checkpoint"},
      {{"--resume=" + kTmp + "/whole", "--net=bn_lenet"},
       "the run being resumed has net=lenet, not bn_lenet"},
      {{"--resume=" + kTmp + "/whole", "--lr=0.5"}, "the run being resumed has lr=0.9, not 0.5 as given"},
  };
  for (const auto& [args, message] : cases) {
    EXPECT_EQ(train(args, log), 2) << args[0];
    EXPECT_NE(read_file(log).find(message), std::string::npos) << args[0] << ": " << read_file(log);
  }
}

}  // namespace
}  // namespace stratum
