#include "train/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ir/error.h"

namespace stratum {

namespace {

// Writes every byte of every piece to fd, then flushes it to disk; the errno of the first failure, or 0.
int write_all_and_sync(int fd, const std::vector<std::string_view>& pieces) {
  for (const std::string_view bytes : pieces) {
    for (size_t written = 0; written < bytes.size();) {
      const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno;
      written += static_cast<size_t>(n);
    }
  }
  return ::fsync(fd) == 0 ? 0 : errno;
}

}  // namespace

void write_file_synced(const std::string& path, const std::vector<std::string_view>& pieces) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot write {}: {}", path, std::strerror(errno));
  int error = write_all_and_sync(fd, pieces);
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error != 0) {
    ::unlink(path.c_str());
    fail("cannot write {}: {}", path, std::strerror(error));
  }
}

void replace_file(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) fail("cannot replace {}: {}", to, std::strerror(errno));
  std::string dir = std::filesystem::path(to).parent_path().string();
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("cannot open the folder of {} to flush it: {}", to, std::strerror(errno));
  const int error = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  if (error != 0) fail("cannot flush the folder of {}: {}", to, std::strerror(error));
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  const std::string temp = path + ".tmp";
  write_file_synced(temp, {bytes});
  replace_file(temp, path);
}

bool file_holds(const std::string& path, const std::vector<std::string_view>& pieces) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> block(1 << 20);
  for (std::string_view bytes : pieces) {
    while (!bytes.empty()) {
      const size_t n = std::min(bytes.size(), block.size());
      if (!in.read(block.data(), static_cast<std::streamsize>(n)) ||
          bytes.substr(0, n) != std::string_view(block.data(), n))
        return false;
      bytes.remove_prefix(n);
    }
  }
  return in.peek() == std::ifstream::traits_type::eof();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read {}: {}", path, std::strerror(errno));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace stratum
