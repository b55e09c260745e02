// Checkpoints: the round trip, and damaged or hostile bytes as clear errors naming the file and the tensor.
#include "train/checkpoint.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "backends/testing.h"
#include "ir/error.h"
#include "train/files.h"

namespace stratum {
namespace {

using testing::error_of;
using testing::temp_path;

TEST(Checkpoint, RoundTripsAndRejectsDamage) {
  Checkpoint checkpoint;
  checkpoint.header = {{"net", "lenet"}, {"metrics", "1,0.5,0.8,0.7,1.0,100.0\n2,0.4,0.85,0.8,1.0,100.0"}};
  Tensor weights({DType::f32, {2, 3}});
  for (int i = 0; i < 6; ++i) weights.f32()[i] = 0.5f * i;
  checkpoint.tensors["w"] = weights;
  checkpoint.tensors["count"] = Tensor({DType::i32, {}});
  const std::string path = temp_path("round.ckpt");
  save_checkpoint(path, checkpoint.header, checkpoint.tensors);
  const Checkpoint loaded = load_checkpoint(path);
  EXPECT_EQ(loaded.header, checkpoint.header);
  testing::expect_bit_equal(loaded.tensors, checkpoint.tensors);

  std::string bytes = read_file(path);
  auto error_for = [&](const std::string& damaged) {
    write_file_atomically(path, damaged);
    try {
      load_checkpoint(path);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 1;
  EXPECT_NE(error_for(flipped).find("checksum does not match"), std::string::npos);
  EXPECT_NE(error_for(bytes.substr(0, bytes.size() - 9)).find("is corrupt"), std::string::npos);
  EXPECT_NE(error_for("hello").find("is not a Stratum checkpoint"), std::string::npos);
  EXPECT_NE(error_for("").find("is not a Stratum checkpoint"), std::string::npos);
}

// A checkpoint of one f32 tensor "w" with these dims and `data` bytes of elements, checksummed.
std::string checkpoint_bytes(const std::vector<int64_t>& dims, size_t data) {
  std::string out = "STRATUM-CHECKPOINT\n";
  auto put = [&](auto value) { out.append(reinterpret_cast<const char*>(&value), sizeof value); };
  put(uint32_t{1});  // version
  put(uint32_t{0});  // an empty header
  put(uint32_t{1});  // one tensor
  put(uint32_t{1});
  out += "w";
  put(uint32_t{0});  // f32
  put(static_cast<uint32_t>(dims.size()));
  for (int64_t d : dims) put(d);
  out.append(data, '\0');
  put(static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(out.data()), out.size())));
  return out;
}

std::string parse_error(const std::string& bytes) {
  try {
    parse_checkpoint(bytes, "c.ckpt");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Pieces across the read-back's 1 MiB blocks; a file holding other bytes, fewer or more, does not match.
TEST(Files, FileHoldsComparesEveryPiece) {
  const std::string path = temp_path("pieces.bin"), big(3 << 20, 'x');
  write_file_synced(path, {"head", big, "tail"});
  EXPECT_TRUE(file_holds(path, {"head", big, "tail"}));
  EXPECT_TRUE(file_holds(path, {"hea", "d" + big + "tai", "l"}));
  EXPECT_FALSE(file_holds(path, {"head", big, "tall"}));
  EXPECT_FALSE(file_holds(path, {"head", big, "tai"}));
  EXPECT_FALSE(file_holds(path, {"head", big, "tails"}));
  EXPECT_FALSE(file_holds(temp_path("missing.bin"), {"head"}));
}

TEST(Checkpoint, DimsAreCheckedBeforeTheAllocation) {
  EXPECT_EQ(parse_checkpoint(checkpoint_bytes({2, 3}, 24), "c.ckpt").tensors.at("w").type(),
            (TensorType{DType::f32, {2, 3}}));
  EXPECT_EQ(parse_error(checkpoint_bytes({4, 0}, 0)),
            "c.ckpt is corrupt: tensor w: f32[4,0] has a dimension of 0: every dimension must be at least 1");
  EXPECT_NE(parse_error(checkpoint_bytes({-2, 3}, 24)).find("tensor w: f32[-2,3] has a dimension of -2"),
            std::string::npos);
  EXPECT_NE(parse_error(checkpoint_bytes({int64_t{1} << 40, int64_t{1} << 40}, 0))
                .find("tensor w: [1099511627776,1099511627776] has more elements than int64 can count"),
            std::string::npos);
  EXPECT_EQ(parse_error(checkpoint_bytes({int64_t{1} << 40}, 16)),
            "c.ckpt is corrupt: tensor w is f32[1099511627776] (4398046511104 bytes), more than the 16 bytes "
            "left");
}

TEST(Checkpoint, KeepsThePreviousAndNeverSavesNonFiniteWeights) {
  const std::string path = temp_path("keep.ckpt");
  Checkpoint checkpoint;
  checkpoint.header = {{"epoch", "1"}};
  checkpoint.tensors["w"] = Tensor({DType::f32, {4}});
  save_checkpoint(path, checkpoint.header, checkpoint.tensors);
  checkpoint.header["epoch"] = "2";
  save_checkpoint(path, checkpoint.header, checkpoint.tensors);
  EXPECT_EQ(load_checkpoint(path).header.at("epoch"), "2");
  EXPECT_EQ(load_checkpoint(temp_path("keep.prev.ckpt")).header.at("epoch"), "1");
  checkpoint.tensors["w"].f32()[2] = NAN;
  checkpoint.header["epoch"] = "3";
  EXPECT_NE(error_of([&] {
              save_checkpoint(path, checkpoint.header, checkpoint.tensors);
            }).find("%w holds a value that is not finite"),
            std::string::npos);
  EXPECT_EQ(load_checkpoint(path).header.at("epoch"), "2");
}

int open_files() { return std::distance(std::filesystem::directory_iterator("/proc/self/fd"), {}); }

// With no room to write (a file size limit, as a full disk), saving fails naming the file and why, closes
// what it opened, and leaves the checkpoint before it as it was. In a child process, which the limit binds.
TEST(Checkpoint, AFullDiskLeavesThePreviousCheckpointIntact) {
  const std::string path = temp_path("full.ckpt");
  Checkpoint small;
  small.tensors["w"] = Tensor({DType::f32, {4}});
  save_checkpoint(path, small.header, small.tensors);
  const pid_t child = fork();
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{4096, 4096};
    setrlimit(RLIMIT_FSIZE, &limit);
    Checkpoint big;
    big.tensors["w"] = Tensor({DType::f32, {100000}});
    const int files = open_files();
    const std::string error = error_of([&] { save_checkpoint(path, big.header, big.tensors); });
    const bool ok = error.find("cannot write " + path + ".tmp: File too large") != std::string::npos &&
                    open_files() == files && load_checkpoint(path).tensors.at("w").size() == 4 &&
                    !std::filesystem::exists(path + ".tmp");
    if (!ok) fprintf(stderr, "error: '%s', files %d then %d\n", error.c_str(), files, open_files());
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

}  // namespace
}  // namespace stratum
