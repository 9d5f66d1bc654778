// MX C++ package: link libmx from C++17 programs, train and serve.
//
//   #include <mx/mx.hpp>      (CMake: find_package(mx CONFIG) + target_link_libraries(app mx::mx))
//
// A header-only layer over the C ABI (include/mx/c_api.h): RAII handles, mx::Error exceptions
// carrying libmx's status and message, and no numerics of its own (every computation is a libmx
// op). Contents:
//   mx/base.hpp       mx::Error, mx::Context, dtypes, mx::Shape, mx::Optional, WaitAll, RandomSeed
//   mx/ndarray.hpp    mx::NDArray (shared handle; Zeros/Ones/Full, zero-copy Wrap, data<T>(), Save/Load)
//   mx/symbol.hpp     mx::Symbol (Variable, Load/LoadJSON/ToJSON, List*, InferShape, Bind/SimpleBind)
//   mx/operator.hpp   mx::Operator builder (Invoke on NDArrays, CreateSymbol for graphs), arithmetic
//   mx/executor.hpp   mx::Executor, mx::CachedOp
//   mx/autograd.hpp   mx::autograd::RecordScope / PauseScope / Backward / Grad, NDArray::AttachGrad
//   mx/ops.hpp        generated: mx::op::<op>(NDArray...) and mx::sym::<op>(Symbol...) for every op
//   mx/optimizer.hpp  mx::Optimizer::Create("sgd" | "nag" | "adam" | "adamw" | "rmsprop" | ...)
//   mx/kvstore.hpp    mx::KVStore("local")
//   mx/nn.hpp         Gluon-style mx::nn blocks
#ifndef MX_CPP_MX_HPP_
#define MX_CPP_MX_HPP_

#include "mx/base.hpp"
#include "mx/ndarray.hpp"
#include "mx/symbol.hpp"
#include "mx/operator.hpp"
#include "mx/executor.hpp"
#include "mx/autograd.hpp"
#include "mx/ops.hpp"
#include "mx/optimizer.hpp"
#include "mx/kvstore.hpp"
#include "mx/nn.hpp"

#endif  // MX_CPP_MX_HPP_
