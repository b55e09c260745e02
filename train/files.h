// Writing files so that nothing a user saved is ever half-written: a temporary file beside the target,
// flushed to disk, then renamed over it (atomic on POSIX file systems), and the folder flushed so the
// rename itself survives a crash.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace stratum {

// Throws Error naming the path when any step fails; the old file, if any, is then left as it was.
void write_file_atomically(const std::string& path, const std::string& bytes);

// The two halves of write_file_atomically, for a caller that checks the written file before it replaces
// the old one: write_file_synced writes `pieces` one after the other to `path` and flushes it (removing it
// again on failure), so large contents need no copy gathered in memory; replace_file renames `from` over
// `to` and flushes their folder.
void write_file_synced(const std::string& path, const std::vector<std::string_view>& pieces);
void replace_file(const std::string& from, const std::string& to);

// Whether the file at `path` holds exactly `pieces` one after the other, read back a block at a time.
bool file_holds(const std::string& path, const std::vector<std::string_view>& pieces);

// The whole file; throws Error naming the path when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace stratum
