#include "train/checkpoint.h"

#include <zlib.h>

#include <cstring>
#include <deque>
#include <filesystem>

#include "ir/error.h"
#include "train/files.h"

namespace stratum {

namespace {

constexpr char kMagic[] = "STRATUM-CHECKPOINT\n";
constexpr uint32_t kVersion = 1;

template <typename T>
void put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

void put_string(std::string& out, const std::string& text) {
  put<uint32_t>(out, static_cast<uint32_t>(text.size()));
  out += text;
}

// Reads from a checkpoint's bytes, failing with the file's name when they run out.
class Reader {
 public:
  Reader(std::string_view bytes, const std::string& path) : bytes_(bytes), path_(path) {}

  template <typename T>
  T get() {
    T value;
    std::memcpy(&value, take(sizeof(T)), sizeof(T));
    return value;
  }
  std::string get_string() {
    const uint32_t length = get<uint32_t>();
    return std::string(take(length), length);
  }
  const char* take(size_t n) {
    if (n > left()) fail("{} is truncated or corrupt: it ends inside a record", path_);
    const char* at = bytes_.data() + pos_;
    pos_ += n;
    return at;
  }
  size_t left() const { return bytes_.size() - pos_; }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
  const std::string& path_;
};

std::string header_text(const std::map<std::string, std::string>& header) {
  std::string text;
  for (const auto& [key, value] : header) {
    size_t start = 0;  // a value of several lines becomes several "key=line" lines
    do {
      const size_t end = std::min(value.find('\n', start), value.size());
      text += key + "=" + value.substr(start, end - start) + "\n";
      start = end + 1;
    } while (start < value.size());
  }
  return text;
}

std::map<std::string, std::string> parse_header(const std::string& text, const std::string& path) {
  std::map<std::string, std::string> header;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start), eq = text.find('=', start);
    if (end == std::string::npos || eq > end) fail("{} is corrupt: bad header line", path);
    std::string& value = header[text.substr(start, eq - start)];
    value += (value.empty() ? "" : "\n") + text.substr(eq + 1, end - eq - 1);
    start = end + 1;
  }
  return header;
}

}  // namespace

std::string previous_checkpoint_path(const std::string& path) {
  const std::string stem = path.size() > 5 && path.compare(path.size() - 5, 5, ".ckpt") == 0
                               ? path.substr(0, path.size() - 5)
                               : path;
  return stem + ".prev.ckpt";
}

void save_checkpoint(const std::string& path, const std::map<std::string, std::string>& header,
                     const std::map<std::string, Tensor>& tensors) {
  for (const auto& [name, tensor] : tensors) {
    if (tensor.type().dtype == DType::f32 && !all_finite(tensor.f32(), tensor.size()))
      fail("not saving {}: %{} holds a value that is not finite", path, name);
  }
  // Small pieces made here (a deque keeps them in place), each tensor's elements where they are.
  std::deque<std::string> heads(1, kMagic);
  put<uint32_t>(heads.back(), kVersion);
  put_string(heads.back(), header_text(header));
  put<uint32_t>(heads.back(), static_cast<uint32_t>(tensors.size()));
  std::vector<std::string_view> pieces = {heads.back()};
  for (const auto& [name, tensor] : tensors) {
    std::string& head = heads.emplace_back();
    put_string(head, name);
    put<uint32_t>(head, static_cast<uint32_t>(tensor.type().dtype));
    put<uint32_t>(head, static_cast<uint32_t>(tensor.type().rank()));
    for (int64_t d : tensor.shape()) put<int64_t>(head, d);
    pieces.push_back(head);
    pieces.emplace_back(static_cast<const char*>(tensor.data()), tensor.type().bytes());
  }
  uLong crc = crc32(0, nullptr, 0);
  for (const std::string_view piece : pieces)
    crc = crc32_z(crc, reinterpret_cast<const Bytef*>(piece.data()), piece.size());
  put<uint32_t>(heads.emplace_back(), static_cast<uint32_t>(crc));
  pieces.push_back(heads.back());
  const std::string temp = path + ".tmp";
  write_file_synced(temp, pieces);
  if (!file_holds(temp, pieces)) fail("{} reads back other bytes than were written", temp);
  if (std::filesystem::exists(path)) {  // kept as the previous checkpoint, by a link so `path` never goes
    const std::string previous = previous_checkpoint_path(path), link = previous + ".tmp";
    std::filesystem::remove(link);
    std::filesystem::create_hard_link(path, link);
    replace_file(link, previous);
  }
  replace_file(temp, path);
}

Checkpoint parse_checkpoint(std::string_view bytes, const std::string& path) {
  const size_t magic = sizeof(kMagic) - 1;
  if (bytes.size() < magic + 8 || bytes.compare(0, magic, kMagic) != 0)
    fail("{} is not a Stratum checkpoint", path);
  const size_t body = bytes.size() - 4;
  uint32_t stored;
  std::memcpy(&stored, bytes.data() + body, 4);
  if (stored != crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), body)) {
    fail("{} is corrupt: its checksum does not match", path);
  }
  Reader in(bytes.substr(0, body), path);
  in.take(magic);
  if (const uint32_t version = in.get<uint32_t>(); version != kVersion) {
    fail("{} is checkpoint version {}; this Stratum reads version {}", path, version, kVersion);
  }
  Checkpoint checkpoint;
  checkpoint.header = parse_header(in.get_string(), path);
  const uint32_t count = in.get<uint32_t>();
  for (uint32_t i = 0; i < count; ++i) {
    const std::string name = in.get_string();
    const uint32_t dtype = in.get<uint32_t>(), rank = in.get<uint32_t>();
    if (dtype > 1) fail("{} is corrupt: tensor {} has element type {}", path, name, dtype);
    if (rank > 8) fail("{} is corrupt: tensor {} has rank {}", path, name, rank);
    TensorType type{static_cast<DType>(dtype), {}};
    for (uint32_t d = 0; d < rank; ++d) type.shape.push_back(in.get<int64_t>());
    // Checked before the allocation: corrupt dims must not ask for more memory than the file holds.
    try {
      check_type(type);
    } catch (const Error& e) {
      fail("{} is corrupt: tensor {}: {}", path, name, e.what());
    }
    if (static_cast<uint64_t>(type.bytes()) > in.left()) {
      fail("{} is corrupt: tensor {} is {} ({} bytes), more than the {} bytes left", path, name,
           type_str(type), type.bytes(), in.left());
    }
    Tensor tensor(type);
    std::memcpy(tensor.data(), in.take(type.bytes()), type.bytes());
    checkpoint.tensors.emplace(name, std::move(tensor));
  }
  if (in.left() != 0) fail("{} is corrupt: bytes after the last tensor", path);
  return checkpoint;
}

Checkpoint load_checkpoint(const std::string& path) { return parse_checkpoint(read_file(path), path); }

}  // namespace stratum
