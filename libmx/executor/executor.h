// Running graphs: the bound executor (Symbol.bind / simple_bind) and the CachedOp that
// hybridize() runs. Both plan memory (graph/passes.h) and push every node through the engine with
// invoke(), so they interleave with imperative work exactly as imperative calls do.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/device.h"
#include "graph/passes.h"
#include "graph/symbol.h"
#include "ndarray/ndarray.h"

namespace mx {
namespace exec {

// MXNet's OpReqType numbering for grad_req: null, write, inplace (treated as write), add.
enum GradReq : int { kNullOp = 0, kWriteTo = 1, kWriteInplace = 2, kAddTo = 3 };

struct ExecOptions {
  bool plan_memory = true;  // false: every intermediate gets its own buffer (reference mode)
};

class GraphExecutor {
 public:
  // args in list_arguments order, arg_grads likewise (none arrays where grad_reqs is kNullOp),
  // aux in list_auxiliary_states order. The arrays are used in place (no copies): forward reads
  // args, mutates aux (BatchNorm's running stats in training), backward writes/adds arg_grads.
  // Counts, shapes and dtypes are checked; errors name the argument and both shapes.
  GraphExecutor(const graph::Symbol& sym, Device dev, std::vector<NDArray> args, std::vector<NDArray> arg_grads,
                std::vector<int> grad_reqs, std::vector<NDArray> aux, ExecOptions opt = {});
  ~GraphExecutor();

  // simple_bind: shapes/dtypes by argument name (dtypes default float32 or the variables'
  // __dtype__); allocates zero-filled args, aux and gradients (grad_reqs by argument name; a
  // missing name means kWriteTo, unless "*" is given as a default).
  static std::unique_ptr<GraphExecutor> simple_bind(const graph::Symbol& sym, Device dev,
                                                    const std::map<std::string, Shape>& shapes,
                                                    const std::map<std::string, DType>& dtypes,
                                                    const std::map<std::string, int>& grad_reqs,
                                                    ExecOptions opt = {});

  void forward(bool is_train);
  // out_grads: one per output (none entries, or an empty vector, mean ones: loss outputs).
  // Requires a forward before; runs the gradient nodes and writes arg_grads by their reqs.
  void backward(const std::vector<NDArray>& out_grads);

  const std::vector<NDArray>& outputs() const;
  const std::vector<NDArray>& args() const;
  const std::vector<NDArray>& arg_grads() const;
  const std::vector<NDArray>& aux() const;
  const graph::Symbol& symbol() const;
  const graph::MemoryPlan& memory_plan() const;

  // A new executor for new input shapes, sharing the arrays whose shapes do not change (MXNet's
  // reshape: partial_shaping allows other arguments to change shape, allow_up_sizing allows
  // arrays to grow; without them such a change is kShape naming the argument).
  std::unique_ptr<GraphExecutor> reshape(const std::map<std::string, Shape>& shapes, bool partial_shaping,
                                         bool allow_up_sizing) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

struct CachedOpFlags {
  bool static_alloc = false;  // keep the planned buffers between calls
  bool static_shape = false;  // with static_alloc: the input shapes never change (no re-check)
  bool plan_memory = true;
};

// A traced graph run as one op (Gluon's hybridize). Inputs are given in sym.list_inputs() order
// (data first, then parameters, as the tracer names them). Shapes are inferred from the inputs
// and the plan is cached per input-shape signature.
class CachedOp {
 public:
  CachedOp(const graph::Symbol& sym, CachedOpFlags flags);
  ~CachedOp();
  // Returns the graph's outputs (new arrays, or the static buffers' arrays with static_alloc).
  // When this thread records and an input is part of an autograd graph, the call is recorded as
  // ONE node whose backward runs the gradient graph (built once per shape signature), so
  // gradients equal those of running the ops imperatively.
  std::vector<NDArray> forward(const std::vector<NDArray>& inputs);
  const graph::Symbol& symbol() const;
  size_t num_inputs() const;
  // Planned and naive (no sharing) bytes of the last plan made (forward, or forward+backward).
  size_t planned_bytes() const;
  size_t naive_bytes() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace exec
}  // namespace mx
