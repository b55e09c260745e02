#include "backends/executor.h"

#include <algorithm>
#include <cstring>
#include <iostream>
#include <mutex>
#include <set>

#include "backends/reference/plugin.h"
#include "backends/world.h"
#include "ir/error.h"

namespace stratum {

struct Executor::Buffer {
  const Value* value;
  const stratum_plugin* domain;  // null: host memory, shared by every cpu plugin
  const stratum_plugin* owner;   // whose alloc and free it came from
  void* data;
  size_t bytes;
};

// One task of a run: a partition's program, or a copy of a value between two domains.
struct Executor::Task {
  const Partition* partition = nullptr;
  const stratum_plugin* plugin = nullptr;
  stratum_program* program = nullptr;
  bool refreshes = false;  // compiled with constant inputs, refreshed at each load_state
  std::vector<void*> args;
  const Buffer* from = nullptr;
  const Buffer* to = nullptr;
};

namespace {

// Says once per op kind and plugin that the reference backend runs it.
void log_fallback(const stratum_plugin& plugin, const Node& node) {
  static std::mutex mutex;
  static std::set<std::pair<std::string, std::string>> logged;
  std::lock_guard<std::mutex> lock(mutex);
  if (logged.emplace(plugin.name, node.op_name()).second) {
    std::cerr << fmt::format("stratum: {} does not run {} (first: {}); it runs on the reference backend\n",
                             plugin.name, node.op_name(), node.label());
  }
}

const stratum_plugin* domain_of(const stratum_plugin& plugin) {
  return std::string(plugin.device_kind) == "cpu" ? nullptr : &plugin;
}

void check(int status, const stratum_plugin& plugin, const char* what) {
  if (status != 0) fail("{}: {} failed: {}", plugin.name, what, plugin.last_error());
}

}  // namespace

bool plugin_runs(const stratum_plugin& plugin, const Node& node) {
  if (&plugin == &reference_plugin()) return true;
  SubgraphDesc desc({&node}, [](const Value*) { return true; });
  return plugin_supports(plugin, desc, 0);
}

std::vector<Partition> partition_nodes(const std::vector<const Node*>& nodes, const stratum_plugin& plugin) {
  std::vector<Partition> partitions;
  for (const Node* node : nodes) {
    const bool supported = plugin_runs(plugin, *node);
    if (!supported) log_fallback(plugin, *node);
    const stratum_plugin* chosen = supported ? &plugin : &reference_plugin();
    if (partitions.empty() || partitions.back().plugin != chosen) partitions.push_back({chosen, {}});
    partitions.back().nodes.push_back(node);
  }
  return partitions;
}

std::vector<Partition> partition_graph(const Graph& graph, const stratum_plugin& plugin) {
  std::vector<const Node*> nodes;
  for (const auto& node : graph.nodes()) nodes.push_back(node.get());
  return partition_nodes(nodes, plugin);
}

Executor::Executor(const Graph& graph, const stratum_plugin& plugin, const Executor* reads_state_of)
    : graph_(graph),
      reads_state_of_(reads_state_of),
      state_ready_(graph.leaves_of(ValueKind::kParam).empty() && graph.leaves_of(ValueKind::kState).empty()) {
  if (STRATUM_PLUGIN_HAS(&plugin, set_world) && plugin.set_world != nullptr)
    check(plugin.set_world(&world()), plugin, "set_world");
  const std::unordered_set<const Node*> is_constant = graph.constant_nodes();
  // What holds the same contents from run to run until load_state: params and state no update targets,
  // and the constant nodes' outputs.
  std::unordered_set<const Value*> unchanging;
  for (const Value* leaf : graph.leaves()) {
    if (leaf->kind() != ValueKind::kInput) unchanging.insert(leaf);
  }
  for (const Update& update : graph.updates()) unchanging.erase(update.target);
  for (const Node* node : is_constant) unchanging.insert(node->outputs().begin(), node->outputs().end());
  std::vector<const Node*> constant, rest;  // each in node order
  for (const auto& node : graph.nodes())
    (is_constant.count(node.get()) ? constant : rest).push_back(node.get());
  partitions_ = partition_nodes(constant, plugin);
  prologue_partitions_ = partitions_.size();
  for (Partition& partition : partition_nodes(rest, plugin)) partitions_.push_back(std::move(partition));
  for (size_t i = 0; i < partitions_.size(); ++i) {
    plan_partition(partitions_[i], unchanging);
    if (i + 1 == prologue_partitions_) prologue_tasks_ = tasks_.size();
  }
  for (const Value* leaf : graph.leaves()) {
    if (!home_.count(leaf)) buffer(leaf, nullptr);  // leaves no node reads keep a home too
  }
  plan_updates();
}

// An update whose new value is a param or state that another update targets (a swap) reads it from a
// copy made before any update lands; a self-update is nothing to do.
void Executor::plan_updates() {
  std::set<const Buffer*> targets;
  for (const Update& update : graph_.updates()) {
    if (update.value != update.target) updates_.emplace_back(&home(update.value), &home(update.target));
    targets.insert(&home(update.target));
  }
  for (auto& [from, to] : updates_) {
    if (!targets.count(from)) continue;
    staged_.emplace_back(from, &allocate(from->value, from->domain));
    from = staged_.back().second;
  }
}

Executor::~Executor() {
  for (const Task& task : tasks_) {
    if (task.program != nullptr) task.plugin->release(task.program);
  }
  for (const auto& b : buffers_) b->owner->free(b->data);
}

// The buffer reads_state_of_ holds `leaf` in, by name and type, where it is in `domain` and no update here
// writes it; null otherwise.
const Executor::Buffer* Executor::shared_leaf(const Value* leaf, const stratum_plugin* domain) const {
  if (reads_state_of_ == nullptr || !leaf->is_leaf() || leaf->kind() == ValueKind::kInput) return nullptr;
  for (const Update& update : graph_.updates()) {
    if (update.target == leaf) return nullptr;
  }
  const Value* theirs = reads_state_of_->graph_.find(leaf->name());
  if (theirs == nullptr || !theirs->is_leaf() || theirs->kind() == ValueKind::kInput ||
      theirs->type() != leaf->type())
    return nullptr;
  const Buffer& b = reads_state_of_->home(theirs);
  return b.domain == domain ? &b : nullptr;
}

Executor::Buffer& Executor::buffer(const Value* value, const stratum_plugin* domain) {
  auto it = by_value_.find({value, domain});
  if (it != by_value_.end()) return *it->second;
  if (const Buffer* theirs = shared_leaf(value, domain); theirs != nullptr && !home_.count(value)) {
    Buffer* b = const_cast<Buffer*>(theirs);  // read only: no update here writes it
    by_value_[{value, domain}] = b;
    home_.emplace(value, b);
    shared_.insert(value);
    return *b;
  }
  Buffer& b = allocate(value, domain);
  by_value_[{value, domain}] = &b;
  home_.emplace(value, &b);  // the first buffer made for a value is its home
  return b;
}

Executor::Buffer& Executor::allocate(const Value* value, const stratum_plugin* domain) {
  const stratum_plugin& owner = domain == nullptr ? reference_plugin() : *domain;
  const size_t bytes = value->type().bytes();
  void* data = owner.alloc(bytes);
  if (data == nullptr)
    fail("{}: cannot allocate {} bytes for {}", owner.name, bytes, type_str(value->type()));
  buffers_.push_back(std::make_unique<Buffer>(Buffer{value, domain, &owner, data, bytes}));
  return *buffers_.back();
}

const Executor::Buffer& Executor::home(const Value* value) const { return *home_.at(value); }

void Executor::plan_partition(const Partition& partition, const std::unordered_set<const Value*>& constant) {
  std::set<const Node*> inside(partition.nodes.begin(), partition.nodes.end());
  auto needed_outside = [&](const Value* v) {
    for (const Node* user : v->users()) {
      if (!inside.count(user)) return true;
    }
    return graph_.is_kept(v);
  };
  descs_.push_back(std::make_unique<SubgraphDesc>(partition.nodes, needed_outside));
  const SubgraphDesc& desc = *descs_.back();
  const stratum_plugin* domain = domain_of(*partition.plugin);
  Task run;
  run.partition = &partition;
  run.plugin = partition.plugin;
  for (size_t i = 0; i < desc.args().size(); ++i) {
    const Value* v = desc.args()[i];
    const bool input = i < static_cast<size_t>(desc.subgraph().n_inputs);
    const bool fresh = !by_value_.count({v, domain});
    Buffer& b = buffer(v, domain);
    if (input && fresh && &home(v) != &b) {
      Task copy;
      copy.from = &home(v);
      copy.to = &b;
      tasks_.push_back(copy);
    }
    run.args.push_back(b.data);
  }
  compile(run, desc, constant);
  if (run.program == nullptr) {
    fail("{}: compiling {} nodes from {} failed: {}", partition.plugin->name, partition.nodes.size(),
         partition.nodes.front()->label(), partition.plugin->last_error());
  }
  tasks_.push_back(std::move(run));
}

void Executor::copy(const Buffer& from, const Buffer& to) const {
  if (from.domain == to.domain) {
    check(to.owner->copy(to.data, from.data, to.bytes), *to.owner, "copy");
  } else if (from.domain == nullptr) {
    check(to.owner->copy_from_host(to.data, from.data, to.bytes), *to.owner, "copy to the device");
  } else if (to.domain == nullptr) {
    check(from.owner->copy_to_host(to.data, from.data, to.bytes), *from.owner, "copy to the host");
  } else {
    staging_.resize(to.bytes);
    check(from.owner->copy_to_host(staging_.data(), from.data, to.bytes), *from.owner, "copy to the host");
    check(to.owner->copy_from_host(to.data, staging_.data(), to.bytes), *to.owner, "copy to the device");
  }
}

// With compile_constant where the plugin has it, telling it which inputs are constant.
void Executor::compile(Task& task, const SubgraphDesc& desc,
                       const std::unordered_set<const Value*>& constant) {
  const stratum_plugin& plugin = *task.plugin;
  std::vector<uint8_t> flags;
  for (int32_t i = 0; i < desc.subgraph().n_inputs; ++i) flags.push_back(constant.count(desc.args()[i]));
  task.refreshes = STRATUM_PLUGIN_HAS(&plugin, refresh_constants) && plugin.compile_constant != nullptr &&
                   plugin.refresh_constants != nullptr && std::count(flags.begin(), flags.end(), 1) > 0;
  task.program = task.refreshes ? plugin.compile_constant(&desc.subgraph(), flags.data())
                                : plugin.compile(&desc.subgraph());
}

void Executor::load_state(const Store& store) {
  for (const Task& task : tasks_) {
    if (task.refreshes)
      check(task.plugin->refresh_constants(task.program), *task.plugin, "refresh_constants");
  }
  state_loaded_ = true;  // even if a leaf below fails: those before it are in
  state_ready_ = false;
  for (const Value* leaf : graph_.leaves()) {
    if (leaf->kind() == ValueKind::kInput || shared_.count(leaf)) continue;
    auto it = store.find(leaf->name());
    if (it == store.end()) fail("load_state: %{} ({}) is missing", leaf->name(), type_str(leaf->type()));
    if (it->second.type() != leaf->type()) {
      fail("load_state: %{} must be {}, got {}", leaf->name(), type_str(leaf->type()),
           type_str(it->second.type()));
    }
    const Buffer& b = home(leaf);
    check(b.owner->copy_from_host(b.data, it->second.data(), b.bytes), *b.owner, "copy to the device");
  }
  state_ready_ = true;
}

Store Executor::save_state() const {
  Store store;
  save_state(store);
  return store;
}

void Executor::save_state(Store& store) const {
  for (const Value* leaf : graph_.leaves()) {
    if (leaf->kind() == ValueKind::kInput) continue;
    Tensor& t = store[leaf->name()];
    if (t.type() != leaf->type()) t = Tensor(leaf->type());
    const Buffer& b = home(leaf);
    check(b.owner->copy_to_host(t.data(), b.data, b.bytes), *b.owner, "copy to the host");
  }
}

void Executor::run(const std::map<std::string, Tensor>& feeds) {
  if (!state_ready_) fail("run before load_state: the params and state have no values");
  for (const Value* input : graph_.leaves_of(ValueKind::kInput)) {
    auto it = feeds.find(input->name());
    if (it == feeds.end()) fail("input %{} ({}) is not fed", input->name(), type_str(input->type()));
    if (it->second.type() != input->type()) {
      fail("input %{} must be {}, got {}", input->name(), type_str(input->type()),
           type_str(it->second.type()));
    }
    const Buffer& b = home(input);
    check(b.owner->copy_from_host(b.data, it->second.data(), b.bytes), *b.owner, "copy to the device");
  }
  ran_prologue_ = state_loaded_;
  for (size_t i = ran_prologue_ ? 0 : prologue_tasks_; i < tasks_.size(); ++i) {
    const Task& task = tasks_[i];
    if (task.program == nullptr) {
      copy(*task.from, *task.to);
    } else if (task.plugin->run(task.program, task.args.data(), static_cast<int32_t>(task.args.size())) !=
               0) {
      const auto& nodes = task.partition->nodes;
      fail("{}: running {} node(s) from {} to {} failed: {}", task.plugin->name, nodes.size(),
           nodes.front()->label(), nodes.back()->label(), task.plugin->last_error());
    }
  }
  state_loaded_ = false;
  if (updates_.empty()) return;
  check_finite();
  for (const auto& [value, staging] : staged_) copy(*value, *staging);
  for (const auto& [value, target] : updates_) copy(*value, *target);
}

void Executor::check_finite() const {
  auto finite = [&](const Value* v) {
    if (v->type().dtype != DType::f32) return true;
    const Buffer& b = home(v);
    if (b.domain == nullptr) return all_finite(static_cast<const float*>(b.data), b.bytes / 4);
    staging_.resize(b.bytes);
    check(b.owner->copy_to_host(staging_.data(), b.data, b.bytes), *b.owner, "copy to the host");
    return all_finite(reinterpret_cast<const float*>(staging_.data()), b.bytes / 4);
  };
  for (const Value* output : graph_.outputs()) {
    if (!finite(output))
      throw NonFiniteStep(fmt::format("output %{} is not finite; no update was applied", output->name()),
                          output);
  }
  for (const Update& update : graph_.updates()) {
    if (!finite(update.value)) {
      throw NonFiniteStep(
          fmt::format("the new value of %{} is not finite; no update was applied", update.target->name()),
          update.target);
    }
  }
}

std::vector<Tensor> Executor::outputs() const {
  std::vector<Tensor> result;
  for (const Value* v : graph_.outputs()) {
    const Buffer& b = home(v);
    Tensor& t = result.emplace_back(v->type());
    check(b.owner->copy_to_host(t.data(), b.data, b.bytes), *b.owner, "copy to the host");
  }
  return result;
}

std::map<std::string, size_t> Executor::arena_bytes() const {
  std::map<std::string, size_t> bytes;
  for (const Task& task : tasks_) {
    const stratum_plugin& plugin = *task.plugin;
    if (task.program == nullptr || !STRATUM_PLUGIN_HAS(&plugin, arena_bytes) || plugin.arena_bytes == nullptr)
      continue;
    bytes[plugin.name] += plugin.arena_bytes(task.program);
  }
  return bytes;
}

std::vector<std::pair<const Node*, double>> Executor::node_times() const {
  std::vector<std::pair<const Node*, double>> times;
  size_t partition = 0;
  for (const Task& task : tasks_) {
    if (task.program == nullptr) continue;
    const bool idle = partition < prologue_partitions_ && !ran_prologue_;
    const auto& nodes = partitions_[partition++].nodes;
    if (task.plugin->node_times == nullptr) continue;
    if (idle) {
      for (const Node* node : nodes) times.emplace_back(node, 0.0);
      continue;
    }
    std::vector<double> ms(nodes.size());
    check(task.plugin->node_times(task.program, ms.data(), static_cast<int32_t>(ms.size())), *task.plugin,
          "node_times");
    for (size_t i = 0; i < nodes.size(); ++i) times.emplace_back(nodes[i], ms[i]);
  }
  return times;
}

}  // namespace stratum
