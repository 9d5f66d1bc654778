// Autograd over the C ABI (see autograd/autograd.h).
#include <memory>
#include <string>

#include "autograd/autograd.h"
#include "c_api/c_api_internal.h"

namespace {

// A function recorded over the ABI: backward calls the caller's C callback with borrowed output
// gradient handles and takes over the input gradient handles it stores.
class CFunction : public mx::autograd::CustomFunction {
 public:
  CFunction(std::string name, int num_inputs, mx_autograd_backward_fn fn, void* user_data,
            void (*release)(void*))
      : CustomFunction(std::move(name)), num_inputs_(num_inputs), fn_(fn), user_data_(user_data), release_(release) {}
  ~CFunction() override {
    if (release_) release_(user_data_);
  }
  // From now on, destroying the function releases the caller's state.
  void own(void (*release)(void*)) { release_ = release; }
  CFunction(const CFunction&) = delete;
  CFunction& operator=(const CFunction&) = delete;

  std::vector<mx::NDArray> backward(const std::vector<mx::NDArray>& outputs,
                                    const std::vector<mx::NDArray>& ograds) override {
    // Handles are freed however this ends (the callback may fail or libmx may throw).
    struct Handles {
      std::vector<mx_ndarray*> h;
      ~Handles() {
        for (mx_ndarray* x : h)
          if (x) mx::capi::free_handle(x);
      }
    } out, og, ig;
    for (const mx::NDArray& o : outputs) out.h.push_back(mx::capi::new_handle(o));
    for (const mx::NDArray& g : ograds) og.h.push_back(mx::capi::new_handle(g));
    ig.h.assign(num_inputs_, nullptr);
    char err[1024];
    err[0] = 0;
    int rc = fn_(user_data_, static_cast<int>(og.h.size()), out.h.data(), og.h.data(), num_inputs_, ig.h.data(), err,
                 sizeof err);
    err[sizeof err - 1] = 0;
    if (rc != MX_OK) {
      mx::ErrorCode code = rc >= MX_ERR_INVALID_ARGUMENT && rc <= MX_ERR_HANDLE ? static_cast<mx::ErrorCode>(rc)
                                                                              : mx::ErrorCode::kInternal;
      mx::throw_error(code, mx::str("custom function '", name(), "' failed in backward (status ", rc, "): ",
                                    err[0] ? err : "(no message)"));
    }
    std::vector<mx::NDArray> grads(num_inputs_);
    for (int i = 0; i < num_inputs_; ++i)
      if (ig.h[i]) grads[i] = mx::capi::get(ig.h[i], "input gradient returned by the backward callback");
    return grads;
  }

 private:
  int num_inputs_;
  mx_autograd_backward_fn fn_;
  void* user_data_;
  void (*release_)(void*);
};

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

MX_API int mx_autograd_record_function(const char* name, int num_inputs, mx_ndarray* const* inputs,
                                       int num_outputs, mx_ndarray* const* outputs, mx_autograd_backward_fn fn,
                                       void* user_data, void (*release)(void*)) {
  MX_API_BEGIN();
  std::string fname = name ? name : "custom function";
  MX_CHECK(fn != nullptr, kInvalidArgument, "custom function '", fname, "': the backward callback is NULL");
  MX_CHECK(num_outputs > 0, kInvalidArgument, "custom function '", fname, "': num_outputs is ", num_outputs,
           ", it needs at least one output");
  std::vector<mx::NDArray> in = arrays(num_inputs, inputs, "input array", false);
  MX_CHECK(outputs != nullptr, kInvalidArgument, "output array is NULL");
  std::vector<mx::NDArray*> out;
  for (int i = 0; i < num_outputs; ++i) {
    mx::capi::get(outputs[i], "output array");
    out.push_back(&outputs[i]->arr);
  }
  // Built last: from here on a failure destroys the function, which would call release.
  // Built without release: a failure below destroys it without touching the caller's state.
  auto f = std::make_shared<CFunction>(fname, num_inputs, fn, user_data, nullptr);
  mx::autograd::record_function(f, in, out);
  // Recorded or not, the caller's state now belongs to libmx (released when f's last owner dies:
  // here when nothing was recorded, else with the node).
  f->own(release);
  MX_API_END();
}

MX_API int mx_ndarray_get_grad(mx_ndarray* arr, mx_ndarray** out) {
  MX_API_BEGIN();
  const mx::NDArray& a = mx::capi::get(arr);
  mx::capi::check_out(out, "out");
  const auto& n = a.ag_node();
  *out = (n && n->is_variable() && !n->grad.is_none()) ? mx::capi::new_handle(n->grad) : nullptr;
  MX_API_END();
}

MX_API int mx_ndarray_get_grad_state(mx_ndarray* arr, int* fresh) {
  MX_API_BEGIN();
  const mx::NDArray& a = mx::capi::get(arr);
  mx::capi::check_out(fresh, "fresh");
  const auto& n = a.ag_node();
  *fresh = (n && n->is_variable() && n->fresh_grad) ? 1 : 0;
  MX_API_END();
}

MX_API int mx_ndarray_set_grad_state(mx_ndarray* arr, int fresh) {
  MX_API_BEGIN();
  const mx::NDArray& a = mx::capi::get(arr);
  const auto& n = a.ag_node();
  MX_CHECK(n && n->is_variable(), kInvalidArgument,
           "the array is not marked for gradients (call attach_grad / mark_variables first)");
  n->fresh_grad = fresh != 0;
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
