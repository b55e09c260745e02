// Small graphs built with the Graph API, and a helper, for pass tests. Key values are named so that tests
// can find() them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace stratum {

// conv -> relu (%conv1, %relu1) -> max_pool -> conv -> relu (%conv2, %relu2) -> flatten -> linear -> loss.
std::unique_ptr<Graph> conv_chain_graph();
// %skip = relu(conv(x)); %c3 = conv(relu(conv(%skip))); %sum = add(%c3, %skip) (fan-out of %skip);
// relu -> global_avg_pool -> flatten -> linear -> loss.
std::unique_ptr<Graph> residual_graph();
// %a = conv(x); %ra = relu(%a); %b = conv(x); %cat = concat(%a, %ra, %b) -> max_pool -> ... -> loss.
std::unique_ptr<Graph> concat_graph();
// conv -> batch_norm (training; the running statistics are updates) -> relu (%out, the output).
std::unique_ptr<Graph> batch_norm_graph();
// linear -> loss, its backward by hand, and %w.new / %b.new = sgd_update of the params, as updates.
std::unique_ptr<Graph> sgd_step_graph();
// x -> 1×1 conv with bias (%t) -> avg_pool (%t.pooled) -> 3×3 conv, padding 1 (%c) -> avg_pool (%c.pooled)
// -> relu -> flatten -> linear -> loss.
std::unique_ptr<Graph> transition_graph();

// Every graph above.
std::vector<std::unique_ptr<Graph>> all_test_graphs();

// The message of the Error that `body` throws; empty when it throws none.
std::string error_message(const std::function<void()>& body);

}  // namespace stratum
