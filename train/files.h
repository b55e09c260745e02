// Writing files so that nothing a user saved is ever half-written: a temporary file beside the target,
// flushed to disk, then renamed over it (atomic on POSIX file systems).
#pragma once

#include <string>

namespace stratum {

// Throws Error naming the path when any step fails; the old file, if any, is then left as it was.
void write_file_atomically(const std::string& path, const std::string& bytes);

// The whole file; throws Error naming the path when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace stratum
