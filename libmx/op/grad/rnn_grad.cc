// Gradient of the fused RNN operator: one call of _backward_RNN (libmx/op/nn/rnn_cell.cc), which
// reads the forward's hidden reserve output (the gate activations and states of every step).
// Outputs the caller did not use (hy/cy, or all of them without state_outputs) get zero ograds.
#include <vector>

#include "base/error.h"
#include "op/registry.h"

namespace mx {
namespace {

MX_REGISTER_GRADIENT(RNN, [](GradBuilder& b, const GradArgs& a) {
  const bool lstm = a.params.get_string("mode") == "lstm";
  const bool so = a.params.get_bool("state_outputs");
  MX_CHECK(!a.params.get_bool("use_sequence_length"), kUnsupported,
           "RNN: use_sequence_length=True is not supported");
  GradValue data = a.inputs[0], params = a.inputs[1], state = a.inputs[2];
  GradValue cell = lstm ? a.inputs[3] : state;  // ignored outside lstm
  GradValue reserve = a.outputs.back();        // the hidden output follows the visible ones
  GradValue dhy = so ? a.ograds[1] : b.call1("zeros_like", {state});
  GradValue dcy = lstm ? (so ? a.ograds[2] : b.call1("zeros_like", {cell})) : dhy;
  std::vector<GradValue> g =
      b.call("_backward_RNN", {a.ograds[0], dhy, dcy, data, params, state, cell, reserve}, a.params.explicit_values());
  std::vector<GradValue> r{g[0], g[1], g[2]};
  if (lstm) r.push_back(g[3]);
  return r;
});

}  // namespace
}  // namespace mx
