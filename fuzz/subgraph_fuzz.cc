// The plugin subgraph decoder: rebuild_graph on a stratum_subgraph decoded from the input. Counts and ids are
// signed bytes (negative and out-of-range ones included); ops and attribute names come mostly from the op
// registry, so that inputs reach shape inference.
#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "backends/subgraph.h"
#include "ir/error.h"
#include "ir/op.h"

namespace {

class Decoder {
 public:
  Decoder(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  stratum_subgraph subgraph() {
    stratum_subgraph s{};
    s.n_values = count();
    s.values = array(s.n_values, [&] { return tensor(); });
    s.n_nodes = count();
    s.nodes = array(s.n_nodes, [&] { return node(); });
    s.n_inputs = count();
    s.n_args = count();
    s.args = ids(s.n_args);
    return s;
  }

 private:
  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  int32_t count() { return static_cast<int8_t>(byte()); }  // -128..127
  int64_t int64() {
    int64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | byte();
    return v;
  }
  // Small numbers mostly (dims, strides), any int64 when the byte says so.
  int64_t number() {
    const int8_t b = static_cast<int8_t>(byte());
    return b == -128 ? int64() : b;
  }

  // An array of max(n, 0) made elements that lives as long as the decoder.
  template <typename Make, typename T = std::invoke_result_t<Make>>
  const T* array(int32_t n, Make make) {
    auto& list = std::get<std::deque<std::vector<T>>>(lists_).emplace_back();
    for (int32_t i = 0; i < n; ++i) list.push_back(make());
    return list.data();
  }
  const int32_t* ids(int32_t n) {
    return array(n, [&] { return count(); });
  }
  const char* text(std::string s) { return strings_.emplace_back(std::move(s)).c_str(); }

  stratum_tensor_desc tensor() {
    stratum_tensor_desc desc{};
    desc.dtype = count();
    desc.rank = count();
    for (int64_t& d : desc.dims) d = number();
    return desc;
  }

  stratum_node node() {
    const auto& ops = stratum::all_ops();
    const stratum::OpDef& op = *ops[byte() % ops.size()];
    stratum_node n{};
    n.op = op.name.c_str();
    n.label = text("node " + std::to_string(strings_.size()));
    n.n_inputs = count();
    n.inputs = ids(n.n_inputs);
    n.n_outputs = count();
    n.outputs = ids(n.n_outputs);
    n.n_attrs = count();
    n.attrs = array(n.n_attrs, [&] { return attr(op); });
    return n;
  }

  stratum_attr attr(const stratum::OpDef& op) {
    stratum_attr a{};
    const uint8_t which = byte();
    a.name = which < op.attrs.size() ? op.attrs[which].name.c_str() : text(std::to_string(which));
    a.kind = count();
    a.i = number();
    const int64_t bits = int64();
    std::memcpy(&a.f, &bits, sizeof a.f);
    a.n_ints = count();
    a.ints = array(a.n_ints, [&] { return number(); });
    a.s = text(std::string(1, static_cast<char>(byte())));
    return a;
  }

  const uint8_t* data_;
  size_t size_, pos_ = 0;
  std::tuple<std::deque<std::vector<stratum_tensor_desc>>, std::deque<std::vector<stratum_node>>,
             std::deque<std::vector<stratum_attr>>, std::deque<std::vector<int32_t>>,
             std::deque<std::vector<int64_t>>>
      lists_;
  std::deque<std::string> strings_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Decoder decoder(data, size);
  try {
    stratum::rebuild_graph(decoder.subgraph());
  } catch (const stratum::Error&) {
  }
  return 0;
}
