// STUB (replaced by the real implementation): every entry point says "not supported yet".
#include "c_api/c_api_internal.h"

namespace {
int stub(const char* name) {
  mx::capi::set_error(MX_ERR_UNSUPPORTED, std::string(name) + ": not implemented yet");
  return MX_ERR_UNSUPPORTED;
}
}  // namespace

extern "C" {
int mx_symbol_variable(const char* name, mx_symbol** out) { return stub("mx_symbol_variable"); }
void mx_symbol_free(mx_symbol* sym) {}
int mx_symbol_create(const char* op_name, int num_params, const char* const* keys, const char* const* vals, int num_inputs, const char* const* input_keys, mx_symbol* const* inputs, const char* name, mx_symbol** out) { return stub("mx_symbol_create"); }
int mx_symbol_compose(const mx_symbol* sym, const char* name, int num_args, const char* const* keys, mx_symbol* const* args, mx_symbol** out) { return stub("mx_symbol_compose"); }
int mx_symbol_copy(const mx_symbol* sym, mx_symbol** out) { return stub("mx_symbol_copy"); }
int mx_symbol_group(int num, mx_symbol* const* syms, mx_symbol** out) { return stub("mx_symbol_group"); }
int mx_symbol_num_outputs(const mx_symbol* sym, size_t* out) { return stub("mx_symbol_num_outputs"); }
int mx_symbol_get_output(const mx_symbol* sym, size_t index, mx_symbol** out) { return stub("mx_symbol_get_output"); }
int mx_symbol_get_internals(const mx_symbol* sym, mx_symbol** out) { return stub("mx_symbol_get_internals"); }
int mx_symbol_get_children(const mx_symbol* sym, mx_symbol** out) { return stub("mx_symbol_get_children"); }
int mx_symbol_list(mx_symbol* sym, int which, size_t* n, const char* const** names) { return stub("mx_symbol_list"); }
int mx_symbol_name(mx_symbol* sym, const char** name) { return stub("mx_symbol_name"); }
int mx_symbol_get_attr(mx_symbol* sym, const char* key, const char** value, int* found) { return stub("mx_symbol_get_attr"); }
int mx_symbol_set_attr(mx_symbol* sym, const char* key, const char* value) { return stub("mx_symbol_set_attr"); }
int mx_symbol_list_attr(mx_symbol* sym, int recursive, size_t* n, const char* const** triples) { return stub("mx_symbol_list_attr"); }
int mx_symbol_to_json(mx_symbol* sym, const char** json) { return stub("mx_symbol_to_json"); }
int mx_symbol_from_json(const char* json, mx_symbol** out) { return stub("mx_symbol_from_json"); }
int mx_symbol_save(mx_symbol* sym, const char* path) { return stub("mx_symbol_save"); }
int mx_symbol_load(const char* path, mx_symbol** out) { return stub("mx_symbol_load"); }
int mx_symbol_gradient(const mx_symbol* sym, int num_wrt, const char* const* wrt, mx_symbol** out) { return stub("mx_symbol_gradient"); }
int mx_symbol_infer_shape(mx_symbol* sym, int num, const char* const* keys, const int* ndims, const int64_t* dims, int partial, mx_infer_result** out) { return stub("mx_symbol_infer_shape"); }
int mx_symbol_infer_type(mx_symbol* sym, int num, const char* const* keys, const int* dtypes, int partial, mx_infer_result** out) { return stub("mx_symbol_infer_type"); }
int mx_infer_result_size(const mx_infer_result* res, int which, size_t* n) { return stub("mx_infer_result_size"); }
int mx_infer_result_shape(const mx_infer_result* res, int which, size_t i, int* ndim, const int64_t** dims) { return stub("mx_infer_result_shape"); }
int mx_infer_result_dtype(const mx_infer_result* res, int which, size_t i, int* dtype) { return stub("mx_infer_result_dtype"); }
int mx_infer_result_complete(const mx_infer_result* res, int* complete) { return stub("mx_infer_result_complete"); }
void mx_infer_result_free(mx_infer_result* res) {}
}
