// STUB (replaced by the real implementation): every entry point says "not supported yet".
#include "c_api/c_api_internal.h"

namespace {
int stub(const char* name) {
  mx::capi::set_error(MX_ERR_UNSUPPORTED, std::string(name) + ": not implemented yet");
  return MX_ERR_UNSUPPORTED;
}
}  // namespace

extern "C" {
int mx_executor_bind(mx_symbol* sym, int dev_type, int dev_id, int num_args, mx_ndarray* const* args, mx_ndarray* const* arg_grads, const int* grad_reqs, int num_aux, mx_ndarray* const* aux, int flags, mx_executor** out) { return stub("mx_executor_bind"); }
int mx_executor_simple_bind(mx_symbol* sym, int dev_type, int dev_id, int num_shapes, const char* const* shape_keys, const int* ndims, const int64_t* dims, int num_types, const char* const* type_keys, const int* dtypes, int num_reqs, const char* const* req_keys, const int* reqs, int flags, mx_executor** out) { return stub("mx_executor_simple_bind"); }
void mx_executor_free(mx_executor* exec) {}
int mx_executor_forward(mx_executor* exec, int is_train) { return stub("mx_executor_forward"); }
int mx_executor_backward(mx_executor* exec, int num, mx_ndarray* const* out_grads) { return stub("mx_executor_backward"); }
int mx_executor_num(mx_executor* exec, int which, size_t* n) { return stub("mx_executor_num"); }
int mx_executor_get(mx_executor* exec, int which, size_t i, mx_ndarray** out) { return stub("mx_executor_get"); }
int mx_executor_reshape(mx_executor* exec, int num_shapes, const char* const* shape_keys, const int* ndims, const int64_t* dims, int partial_shaping, int allow_up_sizing, mx_executor** out) { return stub("mx_executor_reshape"); }
int mx_executor_memory(mx_executor* exec, size_t* planned_bytes, size_t* naive_bytes) { return stub("mx_executor_memory"); }
int mx_cached_op_create(mx_symbol* sym, int num_flags, const char* const* keys, const char* const* vals, int exec_flags, mx_cached_op** out) { return stub("mx_cached_op_create"); }
void mx_cached_op_free(mx_cached_op* op) {}
int mx_cached_op_invoke(mx_cached_op* op, int num_inputs, mx_ndarray* const* inputs, mx_ndarray_list** outputs) { return stub("mx_cached_op_invoke"); }
int mx_cached_op_memory(mx_cached_op* op, size_t* planned_bytes, size_t* naive_bytes) { return stub("mx_cached_op_memory"); }
}
