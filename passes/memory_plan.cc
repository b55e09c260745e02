#include "passes/memory_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <set>
#include <unordered_set>

#include "backends/arena_plan.h"
#include "ir/error.h"
#include "ir/op.h"
#include "ir/printer.h"

namespace stratum {

namespace {

constexpr int64_t kAlignment = 64;

// Node indices, both ends included; `last` is the node count for a value that outlives the graph.
struct Lifetime {
  int first = 0;
  int last = 0;

  bool overlaps(const Lifetime& other) const { return first <= other.last && other.first <= last; }
};

using Lifetimes = std::unordered_map<const Value*, Lifetime>;

// ---- The planner -------------------------------------------------------------------------------------

// Lifetimes of the node outputs, from use lists.
Lifetimes use_list_lifetimes(const Graph& graph) {
  const int end = static_cast<int>(graph.nodes().size());
  std::unordered_map<const Node*, int> index;
  for (int i = 0; i < end; ++i) index[graph.nodes()[i].get()] = i;
  std::unordered_set<const Value*> escaping(graph.outputs().begin(), graph.outputs().end());
  for (const Update& update : graph.updates()) escaping.insert(update.value);

  const std::unordered_set<const Node*> constant = graph.constant_nodes();
  Lifetimes lifetimes;
  for (int i = 0; i < end; ++i) {
    if (constant.count(graph.nodes()[i].get())) continue;
    for (const Value* out : graph.nodes()[i]->outputs()) {
      Lifetime life{i, escaping.count(out) ? end : i};
      for (const Node* user : out->users()) life.last = std::max(life.last, index.at(user));
      lifetimes[out] = life;
    }
  }
  return lifetimes;
}

// Whether output 0 of `node`, at `index`, may take input 0's buffer. Graph outputs and update values live
// to the end, so an input that dies here is neither.
bool takes_input_buffer(const Node& node, int index, const Lifetimes& lifetimes) {
  if (!node.op().traits.inplace) return false;
  const Value* in = node.input(0);
  auto it = lifetimes.find(in);  // leaves have no lifetime: they are not planned
  return it != lifetimes.end() && it->second.last == index &&
         in->type().bytes() == node.output(0)->type().bytes();
}

// ---- The checker: shares no logic with the planner but Lifetime and Graph::constant_nodes ----------------

class PlanChecker {
 public:
  PlanChecker(const Graph& graph, const MemoryPlan& plan) : plan_(plan), names_(printed_names(graph)) {
    scan_lifetimes(graph);
  }

  void check() const {
    check_offsets();
    check_overlaps(legal_inplace_pairs());
  }

 private:
  using Pair = std::pair<const Value*, const Value*>;

  // Lifetimes from a forward scan of node inputs, not from use lists.
  void scan_lifetimes(const Graph& graph) {
    const std::unordered_set<const Node*> constant = graph.constant_nodes();
    int index = 0;
    for (const auto& node : graph.nodes()) {
      for (const Value* in : node->inputs()) {
        if (auto it = lifetimes_.find(in); it != lifetimes_.end()) it->second.last = index;
      }
      const bool planned = !constant.count(node.get());
      for (const Value* out : planned ? node->outputs() : std::vector<Value*>{}) {
        lifetimes_[out] = {index, index};
        planned_.push_back(out);
      }
      ++index;
    }
    auto outlive = [&](const Value* value) {
      if (auto it = lifetimes_.find(value); it != lifetimes_.end()) it->second.last = index;
    };
    for (const Value* out : graph.outputs()) outlive(out);
    for (const Update& update : graph.updates()) outlive(update.value);
  }

  std::string name(const Value* value) const {
    auto it = names_.find(value);
    return it == names_.end() ? "<a value not in the graph>" : "%" + it->second;
  }

  std::string range(const Value* value) const {
    const int64_t offset = plan_.offset.at(value);
    return fmt::format("{} [{}, {})", name(value), offset, offset + value->type().bytes());
  }

  void check_offsets() const {
    int64_t total = 0;
    for (const Value* value : planned_) {
      auto it = plan_.offset.find(value);
      if (it == plan_.offset.end()) fail("memory plan: {} has no offset", name(value));
      if (it->second < 0 || it->second % kAlignment != 0) {
        fail("memory plan: {} is at offset {}, not a multiple of {}", name(value), it->second, kAlignment);
      }
      if (it->second + value->type().bytes() > plan_.peak_bytes) {
        fail("memory plan: {} does not fit in the {}-byte arena", range(value), plan_.peak_bytes);
      }
      total += value->type().bytes();
    }
    for (const auto& entry : plan_.offset) {
      if (!lifetimes_.count(entry.first))
        fail("memory plan: {} is planned but is no node output", name(entry.first));
    }
    if (total != plan_.total_bytes)
      fail("memory plan: total_bytes is {}, the values take {}", plan_.total_bytes, total);
  }

  // The recorded in-place pairs, each checked: output 0 and input 0 of one in-place node, where the input
  // is planned, dies at that node and has the output's size, and both sit at one offset. A chain needs no
  // transitive closure: each link's input dies where the next link starts.
  std::set<Pair> legal_inplace_pairs() const {
    std::set<Pair> pairs;
    for (const auto& [out, in] : plan_.inplace) {
      std::string why;
      if (!lifetimes_.count(out) || !lifetimes_.count(in)) {
        why = "both must be planned node outputs";
      } else if (out->output_index() != 0 || out->producer()->input(0) != in) {
        why = "they are not output 0 and input 0 of one node";
      } else if (!out->producer()->op().traits.inplace) {
        why = out->producer()->op_name() + " is not an in-place op";
      } else if (lifetimes_.at(in).last != lifetimes_.at(out).first) {
        why = "the input is used after that node";
      } else if (in->type().bytes() != out->type().bytes()) {
        why = "their sizes differ";
      } else if (plan_.offset.at(in) != plan_.offset.at(out)) {
        why = "their offsets differ";
      }
      if (!why.empty()) fail("memory plan: {} cannot take the bytes of {}: {}", name(out), name(in), why);
      pairs.insert(std::minmax(out, in));
    }
    return pairs;
  }

  void check_overlaps(const std::set<Pair>& inplace) const {
    for (size_t i = 0; i < planned_.size(); ++i) {
      const Value* a = planned_[i];
      const int64_t a_begin = plan_.offset.at(a), a_end = a_begin + a->type().bytes();
      for (size_t j = i + 1; j < planned_.size(); ++j) {
        const Value* b = planned_[j];
        const int64_t b_begin = plan_.offset.at(b), b_end = b_begin + b->type().bytes();
        const Lifetime &life_a = lifetimes_.at(a), &life_b = lifetimes_.at(b);
        if (!life_a.overlaps(life_b) || a_begin >= b_end || b_begin >= a_end) continue;
        if (inplace.count(std::minmax(a, b))) continue;
        fail("memory plan: {} and {} overlap while both are live (at node {})", range(a), range(b),
             std::max(life_a.first, life_b.first));
      }
    }
  }

  const MemoryPlan& plan_;
  const std::unordered_map<const Value*, std::string> names_;
  Lifetimes lifetimes_;
  std::vector<const Value*> planned_;  // node outputs in definition order
};

std::string format_bytes(int64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double amount = static_cast<double>(bytes) / 1024;
  int unit = 0;
  for (; amount >= 1024 && unit < 3; ++unit) amount /= 1024;
  return fmt::format("{:.1f} {}", amount, kUnits[unit]);
}

}  // namespace

MemoryPlan plan_memory(const Graph& graph) {
  const Lifetimes lifetimes = use_list_lifetimes(graph);
  MemoryPlan plan;
  std::vector<BlockBuffer> buffers;  // one per value, or per chain of in-place values
  std::unordered_map<const Value*, size_t> buffer_of;
  for (int i = 0; i < static_cast<int>(graph.nodes().size()); ++i) {
    const Node& node = *graph.nodes()[i];
    for (const Value* out : node.outputs()) {
      if (!lifetimes.count(out)) continue;  // a constant
      plan.total_bytes += out->type().bytes();
      if (out == node.output(0) && takes_input_buffer(node, i, lifetimes)) {
        const size_t shared = buffer_of.at(node.input(0));
        buffers[shared].last = std::max(buffers[shared].last, lifetimes.at(out).last);
        buffer_of[out] = shared;
        plan.inplace.emplace_back(out, node.input(0));
      } else {
        buffer_of[out] = buffers.size();
        const Lifetime life = lifetimes.at(out);
        buffers.push_back({static_cast<size_t>(out->type().bytes()), life.first, life.last});
      }
    }
  }
  plan.peak_bytes = static_cast<int64_t>(place_buffers(buffers, kAlignment));
  for (const auto& [value, b] : buffer_of) plan.offset[value] = static_cast<int64_t>(buffers[b].offset);
  return plan;
}

void check_plan(const Graph& graph, const MemoryPlan& plan) { PlanChecker(graph, plan).check(); }

std::string plan_report(const Graph& graph, const MemoryPlan& plan) {
  if (plan.total_bytes == 0) return fmt::format("graph {}: nothing to plan", graph.name());
  const long percent = std::lround(100.0 * static_cast<double>(plan.peak_bytes - plan.total_bytes) /
                                   static_cast<double>(plan.total_bytes));
  const char* sign = percent < 0 ? "\u2212" : percent > 0 ? "+" : "";
  return fmt::format("graph {}: peak {} of {} without reuse ({}{}%), {} of {} values in place", graph.name(),
                     format_bytes(plan.peak_bytes), format_bytes(plan.total_bytes), sign, std::labs(percent),
                     plan.inplace.size(), plan.offset.size());
}

bool MemoryPlanPass::run(Graph& graph) {
  const MemoryPlan plan = plan_memory(graph);
  check_plan(graph, plan);
  out_ << plan_report(graph, plan) << "\n";
  return false;
}

PassFactory plan_pass_factory() {
  return [](const PassOptions& options) {
    check_options("plan", options, {});
    return std::make_unique<MemoryPlanPass>();
  };
}

}  // namespace stratum
