// Gradients expressed as other ops. An op's GradFn receives handles to its forward inputs,
// outputs and output gradients, and builds the input gradients by calling registered ops through
// a GradBuilder. The same function serves imperative autograd (the builder invokes ops on arrays,
// recording them when a higher-order gradient is wanted) and, later, symbolic graphs (the builder
// adds nodes), so a gradient is itself differentiable.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace mx {

class Params;

// A value inside a gradient computation (an index into the builder's table). id < 0: none.
struct GradValue {
  int id = -1;
  bool valid() const { return id >= 0; }
};

using ParamList = std::vector<std::pair<std::string, std::string>>;

class GradBuilder {
 public:
  virtual ~GradBuilder() = default;
  // Runs registered op `op` (name or alias) on `in` with MXNet-syntax parameters; its outputs.
  virtual std::vector<GradValue> call(const std::string& op, const std::vector<GradValue>& in,
                                      const ParamList& params = {}) = 0;
  GradValue call1(const std::string& op, const std::vector<GradValue>& in, const ParamList& params = {}) {
    return call(op, in, params)[0];
  }
  // The number of dimensions of a value (known when gradients are built: imperative arrays, or a
  // graph after shape inference), for gradients whose op sequence depends on ranks (dot's N-d views).
  virtual int ndim(GradValue v) = 0;
};

struct GradArgs {
  const Params& params;             // the forward call's parameters
  std::vector<GradValue> inputs;    // forward inputs
  std::vector<GradValue> outputs;   // forward outputs
  std::vector<GradValue> ograds;    // gradient of the loss w.r.t. each output (same shapes)
  // The forward call's random stream (ops declared needs_rng), so a gradient can replay the
  // same draws (Dropout's mask), and whether it ran in training mode.
  uint64_t rng_seed = 0;
  uint64_t rng_stream = 0;
  bool is_train = false;
  // Which inputs need a gradient (empty: all). A GradFn may skip building the others (return an
  // invalid GradValue for them): the data input of a network's first layer, say.
  std::vector<bool> needs_grad;
  bool needs(size_t i) const { return needs_grad.empty() || (i < needs_grad.size() && needs_grad[i]); }
};

// Returns one gradient per forward input, with the input's shape; an invalid GradValue means "no
// gradient" (integer index inputs, say): it is treated as zero.
using GradFn = std::function<std::vector<GradValue>(GradBuilder& b, const GradArgs& a)>;

}  // namespace mx
