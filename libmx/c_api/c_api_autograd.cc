// Autograd over the C ABI (see autograd/autograd.h).
#include "autograd/autograd.h"
#include "c_api/c_api_internal.h"

namespace {

std::vector<mx::NDArray> arrays(int n, mx_ndarray* const* h, const char* what, bool allow_null) {
  MX_CHECK(n >= 0, kInvalidArgument, "negative count of ", what);
  MX_CHECK(n == 0 || h != nullptr, kInvalidArgument, what, " is NULL");
  std::vector<mx::NDArray> v;
  for (int i = 0; i < n; ++i) v.push_back(allow_null && !h[i] ? mx::NDArray() : mx::capi::get(h[i], what));
  return v;
}

}  // namespace

extern "C" {

MX_API int mx_autograd_set_recording(int recording, int* prev) {
  MX_API_BEGIN();
  bool p = mx::autograd::set_recording(recording != 0);
  if (prev) *prev = p ? 1 : 0;
  MX_API_END();
}

MX_API int mx_autograd_is_recording(int* out) {
  MX_API_BEGIN();
  mx::capi::check_out(out, "out");
  *out = mx::autograd::is_recording() ? 1 : 0;
  MX_API_END();
}

MX_API int mx_autograd_mark_variables(int n, mx_ndarray* const* vars, const int* grad_reqs, mx_ndarray* const* grads) {
  MX_API_BEGIN();
  MX_CHECK(n == 0 || grad_reqs != nullptr, kInvalidArgument, "grad_reqs is NULL");
  std::vector<mx::NDArray> g = arrays(n, grads, "gradient array", false);
  std::vector<mx::NDArray*> v;
  for (int i = 0; i < n; ++i) {
    mx::capi::get(vars ? vars[i] : nullptr, "variable array");
    v.push_back(&vars[i]->arr);
  }
  mx::autograd::mark_variables(v, std::vector<int>(grad_reqs, grad_reqs + n), g);
  MX_API_END();
}

MX_API int mx_autograd_backward(int n, mx_ndarray* const* heads, mx_ndarray* const* head_grads, int retain_graph,
                                int create_graph, int is_train) {
  MX_API_BEGIN();
  std::vector<mx::NDArray> h = arrays(n, heads, "head array", false);
  std::vector<mx::NDArray> hg = head_grads ? arrays(n, head_grads, "head gradient", true) : std::vector<mx::NDArray>();
  mx::autograd::backward(h, hg, retain_graph != 0, create_graph != 0, is_train != 0);
  MX_API_END();
}

MX_API int mx_autograd_grad(int nh, mx_ndarray* const* heads, mx_ndarray* const* head_grads, int nv,
                            mx_ndarray* const* variables, int retain_graph, int create_graph, int is_train,
                            mx_ndarray** out) {
  MX_API_BEGIN();
  mx::capi::check_out(out, "out");
  std::vector<mx::NDArray> h = arrays(nh, heads, "head array", false);
  std::vector<mx::NDArray> hg = head_grads ? arrays(nh, head_grads, "head gradient", true) : std::vector<mx::NDArray>();
  std::vector<mx::NDArray> v = arrays(nv, variables, "variable array", false);
  std::vector<mx::NDArray> g = mx::autograd::grad(h, hg, v, retain_graph != 0, create_graph != 0, is_train != 0);
  std::vector<mx_ndarray*> fresh;
  try {
    for (auto& a : g) fresh.push_back(mx::capi::new_handle(a));
  } catch (...) {
    for (auto* f : fresh) mx::capi::free_handle(f);
    throw;
  }
  for (size_t i = 0; i < fresh.size(); ++i) out[i] = fresh[i];
  MX_API_END();
}

MX_API int mx_ndarray_get_grad(mx_ndarray* arr, mx_ndarray** out) {
  MX_API_BEGIN();
  const mx::NDArray& a = mx::capi::get(arr);
  mx::capi::check_out(out, "out");
  const auto& n = a.ag_node();
  *out = (n && !n->op && !n->grad.is_none()) ? mx::capi::new_handle(n->grad) : nullptr;
  MX_API_END();
}

MX_API int mx_ndarray_detach(mx_ndarray* arr, mx_ndarray** out) {
  MX_API_BEGIN();
  const mx::NDArray& a = mx::capi::get(arr);
  mx::capi::check_out(out, "out");
  *out = mx::capi::new_handle(a.detached());
  MX_API_END();
}

}  // extern "C"
