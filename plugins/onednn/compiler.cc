#include "plugins/onednn/compiler.h"

#include <algorithm>
#include <chrono>

#include "ir/error.h"
#include "plugins/onednn/ops.h"

namespace stratum::onednn {

using dnnl::memory;

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

memory::dims dims_of(const Shape& shape) {
  if (shape.empty()) return {1};
  return memory::dims(shape.begin(), shape.end());
}

memory::data_type data_type_of(DType dtype) {
  switch (dtype) {
    case DType::i32:
      return memory::data_type::s32;
    case DType::bf16:
      return memory::data_type::bf16;
    default:
      return memory::data_type::f32;
  }
}

memory::desc plain_desc(const TensorType& type) {
  return plain_desc(dims_of(type.shape), data_type_of(type.dtype));
}

memory::desc plain_desc(const memory::dims& dims, memory::data_type type) {
  return memory::desc(dims, type, memory::dims{});  // no strides: dense row-major
}

memory::desc any_desc(const memory::dims& dims, memory::data_type type) {
  return memory::desc(dims, type, memory::format_tag::any);
}

memory::desc with_data_type(const memory::desc& desc, memory::data_type type) {
  memory::desc converted = desc;
  converted.data.data_type = static_cast<dnnl_data_type_t>(type);
  return converted;
}

memory::dims element_strides(const memory::desc& desc) {
  const dnnl_memory_desc_t& d = desc.data;
  const dnnl_blocking_desc_t& blocking = d.format_desc.blocking;
  if (d.format_kind != dnnl_blocked || d.extra.flags != 0 || blocking.inner_nblks > 1) return {};
  for (int i = 0; i < d.ndims; ++i) {
    if (d.padded_dims[i] != d.dims[i]) return {};
  }
  memory::dims strides(blocking.strides, blocking.strides + d.ndims);
  if (blocking.inner_nblks == 1) {
    const int dim = blocking.inner_idxs[0];
    if (blocking.inner_blks[0] != d.dims[dim]) return {};
    strides[dim] = 1;
  }
  for (int i = 0; i < d.ndims; ++i) {
    if (d.dims[i] == 1) strides[i] = 0;  // never stepped along
  }
  return strides;
}

bool cpu_has(dnnl::cpu_isa isa) {
  const auto bits = static_cast<unsigned>(isa);
  return (static_cast<unsigned>(dnnl::get_effective_cpu_isa()) & bits) == bits;
}

namespace {

// rebuild_graph, naming the node in every error: shape inference's errors name only the op, so on failure
// the node is found as the first whose prefix of the subgraph no longer rebuilds.
RebuiltGraph rebuild_naming_node(const stratum_subgraph& subgraph) {
  try {
    return rebuild_graph(subgraph);
  } catch (const Error& e) {
    stratum_subgraph prefix = subgraph;
    prefix.n_args = prefix.n_inputs;  // outputs may come from nodes after the prefix
    for (prefix.n_nodes = 1; prefix.n_nodes <= subgraph.n_nodes; ++prefix.n_nodes) {
      const std::string label = subgraph.nodes[prefix.n_nodes - 1].label;
      try {
        rebuild_graph(prefix);
      } catch (const Error&) {
        if (std::string_view(e.what()).substr(0, label.size()) == label) throw;
        fail("{}: {}", label, e.what());
      }
    }
    throw;
  }
}

}  // namespace

void Program::run(void* const* args) {
  for (const ArgMemory& a : arg_memories_)
    a.memory.set_data_handle(static_cast<char*>(args[a.arg]) + a.offset);
  for (size_t n = 0; n < nodes_.size(); ++n) {
    const auto start = std::chrono::steady_clock::now();
    try {
      for (const Call& call : nodes_[n].calls) {
        if (call.constant && !constants_stale_) continue;
        if (call.loop) {
          call.loop();
        } else {
          call.primitive.execute(stream_, call.args);
        }
      }
    } catch (const std::exception& e) {
      fail("{}: {}", nodes_[n].label, e.what());
    }
    // CPU primitives run synchronously on this in-order stream, so this times the node's own work.
    times_[n] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
  stream_.wait();
  constants_stale_ = false;
}

std::unique_ptr<Program> Compiler::compile(const stratum_subgraph& subgraph, const uint8_t* constant) {
  auto program = std::make_unique<Program>();
  Compiler compiler(subgraph, constant, *program);
  const auto& nodes = compiler.graph().nodes();
  for (size_t n = 0; n < nodes.size(); ++n) {
    program->nodes_.push_back({subgraph.nodes[n].label, {}});
    try {
      compiler.compile_node(*nodes[n]);
    } catch (const std::exception& e) {
      fail("{}: {}", subgraph.nodes[n].label, e.what());
    }
  }
  compiler.finish();
  return program;
}

Compiler::Compiler(const stratum_subgraph& subgraph, const uint8_t* constant, Program& program)
    : program_(program), rebuilt_(rebuild_naming_node(subgraph)) {
  for (int32_t i = 0; i < subgraph.n_args; ++i) {
    const Value* value = rebuilt_.values.at(subgraph.args[i]);
    if (i < subgraph.n_inputs) {
      values_[value] = make(plain_desc(value->type()), {i, -1});
      if (constant != nullptr && constant[i]) constant_.insert(values_[value].get());
    } else {
      output_args_[value] = i;
    }
  }
}

void Compiler::compile_node(const Node& node) {
  if (!claimed(&node)) {
    const OpCompiler compile = find_op_compiler(node.op_name());
    if (compile == nullptr) fail("the oneDNN plugin does not run {}", node.op_name());
    compile(node, *this);
  }
  copy_out_pending();
  for (const Value* output : node.outputs()) {
    const bool needed =
        output_args_.count(output) || std::any_of(output->users().begin(), output->users().end(),
                                                  [&](const Node* user) { return !claimed(user); });
    if (needed && !values_.count(output))
      fail("internal error: output {} was not computed", output->output_index());
  }
}

dnnl::primitive_attr Compiler::attr(const dnnl::post_ops& post_ops) const {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  attr.set_post_ops(post_ops);
  return attr;
}

// Output args written in another layout go out plain; the plain copy is kept as the value's plain form,
// so later consumers that want it plain read the arg instead of reordering again.
void Compiler::copy_out_pending() {
  for (const Value* value : pending_) {
    const memory& produced = values_.at(value);
    const memory arg = make(plain_desc(value->type()), {output_args_.at(value), -1});
    reorder(produced, arg);
    derived_.push_back({produced.get(), arg.get_desc(), false, arg});
  }
  pending_.clear();
}

void Compiler::finish() {
  program_.arena_.plan();
  for (const auto& [memory, place] : buffer_memories_)
    memory.set_data_handle(static_cast<char*>(program_.arena_.address(place.buffer)) + place.offset);
  program_.times_.assign(program_.nodes_.size(), 0.0);
}

memory Compiler::make(const memory::desc& desc, Place place) {
  memory m(desc, engine(), DNNL_MEMORY_NONE);
  places_[m.get()] = place;
  if (place.arg >= 0) {
    program_.arg_memories_.push_back({m, place.arg, place.offset});
  } else {
    buffer_memories_.emplace_back(m, place);
  }
  return m;
}

memory Compiler::input(const Value* value) const {
  auto it = values_.find(value);
  if (it == values_.end()) fail("internal error: an input is read before it is computed");
  return it->second;
}

memory Compiler::input(const Value* value, const memory::desc& desc) { return convert(input(value), desc); }

memory Compiler::plain_input(const Value* value) { return input(value, plain_desc(value->type())); }

memory Compiler::output(const Value* value, const memory::desc& desc) {
  auto arg = output_args_.find(value);
  memory m;
  if (arg != output_args_.end() && desc == plain_desc(value->type())) {
    m = make(desc, {arg->second, -1});
  } else {
    m = buffer(desc);
    if (arg != output_args_.end()) pending_.push_back(value);
  }
  values_[value] = m;
  return m;
}

memory Compiler::plain_output(const Value* value) { return output(value, plain_desc(value->type())); }

const Node* Compiler::sole_reader(const Value* value, std::string_view op) const {
  if (output_args_.count(value) || value->users().size() != 1) return nullptr;
  const Node* reader = value->users()[0];
  return reader->op_name() == op && !claimed(reader) ? reader : nullptr;
}

// Whether `node` is the last to read `value`, which the caller does not read.
bool Compiler::dies_at(const Value* value, const Node& node) const {
  if (output_args_.count(value)) return false;
  const int at = graph().index_of(&node);
  return std::all_of(value->users().begin(), value->users().end(),
                     [&](const Node* user) { return graph().index_of(user) <= at; });
}

bool Compiler::may_write_over(const Value* value, const memory& m, const Node& node) const {
  const Place& place = places_.at(m.get());
  if (place.arg >= 0 || constant_.count(m.get()) || !dies_at(value, node)) return false;
  return std::all_of(values_.begin(), values_.end(), [&](const auto& entry) {
    return places_.at(entry.second.get()).buffer != place.buffer || dies_at(entry.first, node);
  });
}

void Compiler::alias(const Value* value, const memory& memory) {
  values_[value] = memory;
  if (output_args_.count(value)) pending_.push_back(value);
}

void Compiler::write_over(const Value* value, const memory& memory) {
  derived_.erase(std::remove_if(derived_.begin(), derived_.end(),
                                [&](const Derived& d) {
                                  return (d.source == memory.get() && !d.is_view) ||
                                         d.memory.get() == memory.get();
                                }),
                 derived_.end());
  alias(value, memory);
}

// A blocked layout whose blocks overrun the channels has padding that oneDNN's primitives expect to hold
// zeros, and many keep it so by carrying their input's padding over: such a buffer shares no bytes (the
// arena starts zeroed), lest another buffer's data show up in it.
memory Compiler::buffer(const memory::desc& desc) {
  const size_t dense = num_elements(desc.dims()) * memory::data_type_size(desc.data_type());
  return make(desc, {-1, program_.arena_.add(desc.get_size(), /*reusable=*/desc.get_size() <= dense)});
}

const memory* Compiler::find_derived(const memory& source, const memory::desc& desc, bool is_view) const {
  for (const Derived& d : derived_) {
    if (d.source == source.get() && d.is_view == is_view && d.desc == desc) return &d.memory;
  }
  return nullptr;
}

memory Compiler::view(const memory& source, const memory::desc& desc) {
  if (source.get_desc() == desc) return source;
  if (const memory* found = find_derived(source, desc, true)) return *found;
  const memory m = view_from(source, 0, desc);
  derived_.push_back({source.get(), desc, true, m});
  return m;
}

memory Compiler::view_from(const memory& source, size_t offset, const memory::desc& desc) {
  Place place = places_.at(source.get());
  place.offset += offset;
  const memory m = make(desc, place);
  if (constant_.count(source.get())) constant_.insert(m.get());
  return m;
}

namespace {

// Whether `a` and `b` place every element at the same offset: a view of one is the other.
bool same_bytes(const memory::desc& a, const memory::desc& b) {
  if (a.data.data_type != b.data.data_type || a.data.offset0 != b.data.offset0 || a.dims() != b.dims())
    return false;
  const memory::dims strides = element_strides(a);
  return !strides.empty() && strides == element_strides(b);
}

}  // namespace

// A conversion of a constant input is made once per refresh, into a buffer of its own that keeps it; one
// between layouts that place every element alike is a view.
memory Compiler::convert(const memory& source, const memory::desc& desc) {
  if (source.get_desc() == desc) return source;
  if (same_bytes(source.get_desc(), desc)) return view(source, desc);
  if (const memory* found = find_derived(source, desc, false)) return *found;
  const bool constant = constant_.count(source.get()) > 0;
  const memory m =
      constant ? make(desc, {-1, program_.arena_.add(desc.get_size(), /*reusable=*/false)}) : buffer(desc);
  reorder(source, m);
  if (constant) {
    program_.nodes_.back().calls.back().constant = true;
    constant_.insert(m.get());
  }
  derived_.push_back({source.get(), desc, false, m});
  return m;
}

void Compiler::add(const dnnl::primitive_desc_base& pd, Args args) {
  const memory::desc scratchpad = pd.scratchpad_desc();
  if (scratchpad.get_size() > 0) args[DNNL_ARG_SCRATCHPAD] = buffer(scratchpad);
  std::vector<memory> memories;
  for (const auto& [id, m] : args) memories.push_back(m);
  add_call({dnnl::primitive(pd.get()), std::move(args), nullptr}, memories);
}

void Compiler::add_loop(std::function<void()> loop, const std::vector<memory>& memories) {
  add_call({{}, {}, std::move(loop)}, memories);
}

void Compiler::reorder(const memory& from, const memory& to) {
  add(dnnl::reorder::primitive_desc(engine(), from.get_desc(), engine(), to.get_desc(), attr()),
      {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
}

// Every call records the buffers it touches, which is what the arena plans their lifetimes from.
void Compiler::add_call(Program::Call call, const std::vector<memory>& memories) {
  for (const memory& m : memories) {
    const Place& place = places_.at(m.get());
    if (place.buffer >= 0) program_.arena_.use(place.buffer, calls_);
  }
  ++calls_;
  program_.nodes_.back().calls.push_back(std::move(call));
}

memory Compiler::workspace(const Node* forward) const {
  auto it = workspaces_.find(forward);
  return it == workspaces_.end() ? memory() : it->second;
}

}  // namespace stratum::onednn
