// Imperative execution of one op: checks, shape/dtype inference, output allocation, and a push
// to the engine. Shared by the C API (mx_op_invoke) and, later, autograd and the executor.
#pragma once
#include <vector>

#include "ndarray/ndarray.h"
#include "op/registry.h"

namespace mx {

// outputs must hold num_outputs entries: none entries receive new arrays, others are written in
// place (shape and dtype must match what the op produces). The call runs in training mode
// (OpContext::is_train: Dropout drops, BatchNorm uses batch statistics) when this thread is in it.
void invoke(const OpDef& op, const ParamsPtr& params, const std::vector<NDArray>& inputs,
            std::vector<NDArray>* outputs);

// Training mode of the calling thread (MXNet's autograd.train_mode / predict_mode). Returns the
// previous value.
bool set_training(bool training);
bool is_training();

}  // namespace mx
