// The pass interface, and the registry that makes passes from specs: "dce",
// "autodiff(optimizer=adam,loss=loss)".
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"

namespace stratum {

class Pass {
 public:
  virtual ~Pass() = default;
  virtual std::string_view name() const = 0;
  // Returns whether it changed the graph.
  virtual bool run(Graph& graph) = 0;
  // How many rewrites the last run made, for reports (a fusion pass: the chains it fused); 0 if uncounted.
  virtual int rewrites() const { return 0; }
};

using PassOptions = std::map<std::string, std::string>;
using PassFactory = std::function<std::unique_ptr<Pass>(const PassOptions& options)>;

// Makes `name` known to make_pass(); throws Error when the name is taken. Pass libraries expose their
// factories and //passes:all registers them (passes/registry.h).
void register_pass(std::string name, PassFactory factory);
// The registered pass names, sorted.
std::vector<std::string> registered_passes();

// Makes the pass a spec names: "name" or "name(key=value,...)". Throws Error on a malformed spec, on an
// unknown pass (listing the known ones) and on options the factory rejects.
std::unique_ptr<Pass> make_pass(std::string_view spec);

// Splits at the commas outside parentheses, trimming blanks: a pipeline into specs, an option list into
// key=value items. Blank text gives no items; unbalanced parentheses are an Error.
std::vector<std::string_view> split_top_level(std::string_view text);

// For factories: throws Error naming the pass and listing `known` unless every option is one of them.
void check_options(std::string_view pass, const PassOptions& options, const std::vector<std::string>& known);
// The option as a finite number, or `fallback` when it is absent; throws Error naming the pass and the
// option when it is not one.
double float_option(std::string_view pass, const PassOptions& options, const std::string& key,
                    double fallback);

// For rewrites: whether `node` is a 1×1 conv2d at stride 1 without padding, a product over channels at each
// pixel (its dilation changes nothing).
bool is_pointwise_conv(const Node& node);

}  // namespace stratum
