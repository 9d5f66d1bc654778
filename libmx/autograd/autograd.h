// Imperative autograd: while a thread records, every op invoked on arrays that need gradients adds
// a node to a tape (a graph hanging off the arrays). backward() walks it in reverse and builds the
// input gradients with each op's GradFn (op/grad.h), i.e. by invoking ordinary ops -- recorded
// again when create_graph asks for higher-order gradients.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "ndarray/ndarray.h"
#include "op/registry.h"

namespace mx {
namespace autograd {

enum GradReq : int { kNullReq = 0, kWriteReq = 1, kAddReq = 3 };  // MXNet's OpReqType numbering

// A user-defined function recorded as one node (MXNet's autograd.Function): its backward is code
// outside the op registry, run on the thread that calls backward, inside the walk, so with
// create_graph the ops it invokes are recorded too. Destroyed (and its owner's state released)
// when the node is freed.
class CustomFunction {
 public:
  explicit CustomFunction(std::string name) : name_(std::move(name)) {}
  virtual ~CustomFunction() = default;
  const std::string& name() const { return name_; }
  // Gradients of the inputs (one per input; a none array = no gradient) from the outputs (attached
  // to the node) and their gradients (one per output, zeros where nothing flows). Throws mx::Error.
  virtual std::vector<NDArray> backward(const std::vector<NDArray>& outputs, const std::vector<NDArray>& ograds) = 0;

 private:
  std::string name_;
};

struct Node {
  const OpDef* op = nullptr;  // null with no `custom` either: a variable (an array marked for gradients)
  std::shared_ptr<CustomFunction> custom;  // a recorded user-defined function (op is null)
  ParamsPtr params;
  bool is_train = false;
  uint64_t rng_seed = 0, rng_stream = 0;  // the call's random stream (needs_rng ops)
  std::vector<NDArray> inputs;   // with their graph entries (keeps the upstream graph alive)
  std::vector<NDArray> outputs;  // without entries (no cycle); re-attached when used
  bool freed = false;            // released by a backward without retain_graph
  // Variables only.
  NDArray grad;
  int grad_req = kWriteReq;
  bool fresh_grad = false;  // backward wrote grad since the flag was last cleared

  bool is_variable() const { return !op && !custom; }
};

bool set_recording(bool recording);  // per thread; returns the previous value
bool is_recording();

// Marks arrays as variables with gradient buffers (grads[i] has vars[i]'s shape) and requests.
void mark_variables(std::vector<NDArray*> vars, const std::vector<int>& reqs, const std::vector<NDArray>& grads);

// Called by invoke while recording: adds a node when an input is part of a graph.
void record(const OpDef& op, const ParamsPtr& params, const std::vector<NDArray>& inputs,
            std::vector<NDArray>* outputs, uint64_t rng_seed = 0, uint64_t rng_stream = 0);
// Records a user-defined function: outputs (computed from inputs with recording paused) become
// the outputs of one node whose backward is fn. Does nothing (returns false, fn is dropped) when
// this thread is not recording or no input is part of a graph. Outputs are re-attached in place.
bool record_function(std::shared_ptr<CustomFunction> fn, const std::vector<NDArray>& inputs,
                     const std::vector<NDArray*>& outputs);
// Throws when an in-place write while recording would corrupt values a graph still needs.
void check_inplace(const OpDef& op, const std::vector<NDArray>& inputs, const std::vector<NDArray>& provided_outputs);

// Gradients of heads (seeded with head_grads, or ones where an entry is none) written into the
// variables' buffers by their grad_req.
void backward(const std::vector<NDArray>& heads, const std::vector<NDArray>& head_grads, bool retain_graph,
              bool create_graph, bool is_train);
// Gradients of heads w.r.t. variables, returned (buffers untouched). With create_graph the results
// are themselves recorded, so they can be differentiated again.
std::vector<NDArray> grad(const std::vector<NDArray>& heads, const std::vector<NDArray>& head_grads,
                          const std::vector<NDArray>& variables, bool retain_graph, bool create_graph, bool is_train);

}  // namespace autograd
}  // namespace mx
