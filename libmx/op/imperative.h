// Imperative execution of one op: checks, shape/dtype inference, output allocation, and a push
// to the engine. Shared by the C API (mx_op_invoke) and, later, autograd and the executor.
#pragma once
#include <cstdint>
#include <vector>

#include "ndarray/ndarray.h"
#include "op/registry.h"

namespace mx {

// outputs must hold num_outputs entries: none entries receive new arrays, others are written in
// place (shape and dtype must match what the op produces). The call runs in training mode
// (OpContext::is_train: Dropout drops, BatchNorm uses batch statistics) when this thread is in it.
void invoke(const OpDef& op, const ParamsPtr& params, const std::vector<NDArray>& inputs,
            std::vector<NDArray>* outputs);

// What a graph executor decides instead of the calling thread (invoke_with).
struct InvokeOpts {
  int is_train = -1;          // 0/1: overrides the thread's training mode
  bool has_rng = false;       // use this random stream (a needs_rng op) instead of reserving one
  uint64_t rng_seed = 0, rng_stream = 0;
  bool no_record = false;     // never record into autograd (the caller records the whole graph)
  // Filled: the stream the call used (needs_rng ops), so a gradient can replay it.
  uint64_t* used_rng_seed = nullptr;
  uint64_t* used_rng_stream = nullptr;
};
void invoke_with(const OpDef& op, const ParamsPtr& params, const std::vector<NDArray>& inputs,
                 std::vector<NDArray>* outputs, const InvokeOpts& opts);

// Training mode of the calling thread (MXNet's autograd.train_mode / predict_mode). Returns the
// previous value.
bool set_training(bool training);
bool is_training();

}  // namespace mx
