// Handle structs behind the opaque C types, and the error-mapping wrapper of every entry point.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "mx/c_api.h"
#include "ndarray/ndarray.h"
#include "op/registry.h"

constexpr uint32_t kLiveMagic = 0x4d584e44u;  // "MXND"
constexpr uint32_t kDeadMagic = 0xdeadbeefu;

struct mx_ndarray {
  uint32_t magic;
  mx::NDArray arr;
};

struct mx_op {
  uint32_t magic;
  const mx::OpDef* def;
  // Borrowed views for mx_op_info, built once.
  std::vector<const char*> param_names, param_types, param_defaults, param_docs, input_names;
  mx::ParamsPtr defaults;  // parsed defaults (null when the op has required parameters)
};

struct mx_op_params {
  uint32_t magic;
  const mx_op* op;
  mx::ParamsPtr params;
};

struct mx_ndarray_list {
  uint32_t magic;
  std::vector<mx::NDArray> arrays;
  std::vector<std::string> names;
};

// Graph handles (c_api_symbol.cc, c_api_executor.cc). Full definitions live there; the predict
// API reaches symbols and executors through the C++ classes directly.
struct mx_symbol;
struct mx_executor;
struct mx_cached_op;
struct mx_infer_result;

namespace mx {
namespace capi {

void set_error(int status, const std::string& msg);
int status_of(ErrorCode c);

// New handle (from a slab that never returns memory, so a stale handle reads as freed).
mx_ndarray* new_handle(NDArray arr);
void free_handle(mx_ndarray* h);
const NDArray& get(const mx_ndarray* h, const char* what = "array");
const mx_op* get_op_handle(const OpDef* def);

template <typename T>
void check_out(T* p, const char* name) {
  MX_CHECK(p != nullptr, kInvalidArgument, "output pointer '", name, "' is NULL");
}

}  // namespace capi
}  // namespace mx

#define MX_API_BEGIN() try {
#define MX_API_END()                                                                       \
  }                                                                                        \
  catch (const ::mx::Error& e) {                                                           \
    ::mx::capi::set_error(::mx::capi::status_of(e.code()), e.what());                     \
    return ::mx::capi::status_of(e.code());                                                \
  }                                                                                        \
  catch (const std::bad_alloc&) {                                                          \
    ::mx::capi::set_error(MX_ERR_OUT_OF_MEMORY, "out of memory");                          \
    return MX_ERR_OUT_OF_MEMORY;                                                           \
  }                                                                                        \
  catch (const std::exception& e) {                                                        \
    ::mx::capi::set_error(MX_ERR_INTERNAL, std::string("internal error: ") + e.what());    \
    return MX_ERR_INTERNAL;                                                                \
  }                                                                                        \
  catch (...) {                                                                            \
    ::mx::capi::set_error(MX_ERR_INTERNAL, "internal error: unknown exception");           \
    return MX_ERR_INTERNAL;                                                                \
  }                                                                                        \
  return MX_OK;
