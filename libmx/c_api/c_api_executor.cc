// mx_executor_* and mx_cached_op_*: the bound executor and the CachedOp over the C ABI.
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "c_api/c_api_internal.h"
#include "c_api/c_api_symbol.h"
#include "executor/executor.h"

namespace {
constexpr uint32_t kExecutorMagic = 0x4d584558u;  // "MXEX"
constexpr uint32_t kCachedOpMagic = 0x4d58434fu;  // "MXCO"
}  // namespace

struct mx_executor {
  uint32_t magic;
  std::unique_ptr<mx::exec::GraphExecutor> exec;
};

struct mx_cached_op {
  uint32_t magic;
  std::unique_ptr<mx::exec::CachedOp> op;
};

namespace {

using mx::capi::check_out;

// Freed handles keep their (small) struct with a dead magic and are reused for new handles, never
// returned to the allocator, so a stale handle reads as freed rather than as garbage.
template <typename H>
struct Slab {
  std::mutex mu;
  std::vector<H*> free_list;

  static Slab& get() {
    static Slab* s = new Slab();
    return *s;
  }
  // A live handle owning obj.
  template <typename T>
  static H* make(std::unique_ptr<T> obj, uint32_t magic) {
    H* h = nullptr;
    {
      Slab& s = get();
      std::lock_guard<std::mutex> lk(s.mu);
      if (!s.free_list.empty()) {
        h = s.free_list.back();
        s.free_list.pop_back();
      }
    }
    if (!h) h = new H{kDeadMagic, nullptr};
    set(h, std::move(obj));
    h->magic = magic;
    return h;
  }
  static void release(H* h) {
    clear(h);
    Slab& s = get();
    std::lock_guard<std::mutex> lk(s.mu);
    s.free_list.push_back(h);
  }
  static void set(mx_executor* h, std::unique_ptr<mx::exec::GraphExecutor> e) { h->exec = std::move(e); }
  static void set(mx_cached_op* h, std::unique_ptr<mx::exec::CachedOp> o) { h->op = std::move(o); }
  static void clear(mx_executor* h) { h->exec.reset(); }
  static void clear(mx_cached_op* h) { h->op.reset(); }
};

mx::exec::GraphExecutor& get_exec(mx_executor* h) {
  MX_CHECK(h != nullptr, kHandle, "executor handle is NULL");
  MX_CHECK(h->magic == kExecutorMagic, kHandle, "executor handle is invalid or was already freed");
  return *h->exec;
}

mx::exec::CachedOp& get_cached(mx_cached_op* h) {
  MX_CHECK(h != nullptr, kHandle, "cached op handle is NULL");
  MX_CHECK(h->magic == kCachedOpMagic, kHandle, "cached op handle is invalid or was already freed");
  return *h->op;
}

mx::Device device_of(int dev_type, int dev_id) {
  MX_CHECK(dev_type == static_cast<int>(mx::DeviceType::kCPU) || dev_type == static_cast<int>(mx::DeviceType::kGPU) ||
               dev_type == static_cast<int>(mx::DeviceType::kCPUPinned),
           kInvalidArgument, "device type ", dev_type, " is not cpu (1), gpu (2) or cpu_pinned (3)");
  MX_CHECK(dev_id >= 0, kInvalidArgument, "device id ", dev_id, " is negative");
  mx::Device d{static_cast<mx::DeviceType>(dev_type), dev_id};
  mx::check_device(d);
  return d;
}

mx::exec::ExecOptions exec_options(int flags) {
  MX_CHECK((flags & ~MX_EXEC_NO_MEMORY_PLAN) == 0, kInvalidArgument, "unknown executor flags ", flags);
  mx::exec::ExecOptions o;
  o.plan_memory = (flags & MX_EXEC_NO_MEMORY_PLAN) == 0;
  return o;
}

std::vector<mx::NDArray> arrays(int n, mx_ndarray* const* h, const char* what, bool allow_null) {
  MX_CHECK(n >= 0, kInvalidArgument, "negative number of ", what, " arrays: ", n);
  MX_CHECK(n == 0 || h != nullptr, kInvalidArgument, what, " array list is NULL");
  std::vector<mx::NDArray> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    if (allow_null && h[i] == nullptr) continue;
    v[i] = mx::capi::get(h[i], what);
  }
  return v;
}

// Shapes by name: shape i is ndims[i] entries of dims, consecutively.
std::map<std::string, mx::Shape> shape_map(int n, const char* const* keys, const int* ndims, const int64_t* dims) {
  MX_CHECK(n >= 0, kInvalidArgument, "negative number of shapes: ", n);
  MX_CHECK(n == 0 || (keys && ndims), kInvalidArgument, "shape keys or ndims is NULL");
  std::map<std::string, mx::Shape> m;
  size_t off = 0;
  for (int i = 0; i < n; ++i) {
    MX_CHECK(keys[i] != nullptr, kInvalidArgument, "shape key ", i, " is NULL");
    MX_CHECK(ndims[i] >= 0 && ndims[i] <= mx::Shape::kMaxDim, kInvalidArgument, "shape of '", keys[i], "': ndim ",
             ndims[i], " is out of range");
    MX_CHECK(ndims[i] == 0 || dims != nullptr, kInvalidArgument, "shape dims is NULL");
    for (int k = 0; k < ndims[i]; ++k)
      MX_CHECK(dims[off + k] >= 0, kInvalidArgument, "shape of '", keys[i], "': dimension ", k, " is ",
               dims[off + k]);
    m[keys[i]] = mx::Shape(ndims[i] ? dims + off : nullptr, ndims[i]);
    off += static_cast<size_t>(ndims[i]);
  }
  return m;
}

bool parse_flag(const char* key, const char* v) {
  MX_CHECK(v != nullptr, kInvalidArgument, "cached op flag '", key, "' has a NULL value");
  if (!std::strcmp(v, "true") || !std::strcmp(v, "True") || !std::strcmp(v, "1")) return true;
  if (!std::strcmp(v, "false") || !std::strcmp(v, "False") || !std::strcmp(v, "0")) return false;
  MX_THROW(kInvalidArgument, "cached op flag '", key, "' must be true or false, got '", v, "'");
}

}  // namespace

extern "C" {

MX_API int mx_executor_bind(mx_symbol* sym, int dev_type, int dev_id, int num_args, mx_ndarray* const* args,
                            mx_ndarray* const* arg_grads, const int* grad_reqs, int num_aux, mx_ndarray* const* aux,
                            int flags, mx_executor** out) {
  MX_API_BEGIN();
  check_out(out, "out");
  const mx::graph::Symbol& s = mx::capi::get_symbol(sym);
  mx::Device dev = device_of(dev_type, dev_id);
  std::vector<mx::NDArray> a = arrays(num_args, args, "argument", false);
  std::vector<int> reqs(static_cast<size_t>(num_args), MX_GRAD_NULL);
  if (grad_reqs) reqs.assign(grad_reqs, grad_reqs + num_args);
  std::vector<mx::NDArray> g(static_cast<size_t>(num_args));
  if (arg_grads) g = arrays(num_args, arg_grads, "gradient", true);
  std::vector<mx::NDArray> x = arrays(num_aux, aux, "auxiliary state", false);
  std::unique_ptr<mx::exec::GraphExecutor> e(new mx::exec::GraphExecutor(
      s, dev, std::move(a), std::move(g), std::move(reqs), std::move(x), exec_options(flags)));
  *out = Slab<mx_executor>::make(std::move(e), kExecutorMagic);
  MX_API_END();
}

MX_API int mx_executor_simple_bind(mx_symbol* sym, int dev_type, int dev_id, int num_shapes,
                                   const char* const* shape_keys, const int* ndims, const int64_t* dims,
                                   int num_types, const char* const* type_keys, const int* dtypes, int num_reqs,
                                   const char* const* req_keys, const int* reqs, int flags, mx_executor** out) {
  MX_API_BEGIN();
  check_out(out, "out");
  const mx::graph::Symbol& s = mx::capi::get_symbol(sym);
  mx::Device dev = device_of(dev_type, dev_id);
  std::map<std::string, mx::Shape> shapes = shape_map(num_shapes, shape_keys, ndims, dims);
  std::map<std::string, mx::DType> types;
  MX_CHECK(num_types >= 0 && (num_types == 0 || (type_keys && dtypes)), kInvalidArgument,
           "dtype keys or values are NULL");
  for (int i = 0; i < num_types; ++i) {
    MX_CHECK(type_keys[i] != nullptr, kInvalidArgument, "dtype key ", i, " is NULL");
    MX_CHECK(mx::dtype_valid(dtypes[i]), kDType, "dtype of '", type_keys[i], "': ", dtypes[i],
             " is not a dtype flag");
    types[type_keys[i]] = static_cast<mx::DType>(dtypes[i]);
  }
  std::map<std::string, int> req_map;
  MX_CHECK(num_reqs >= 0 && (num_reqs == 0 || (req_keys && reqs)), kInvalidArgument,
           "grad_req keys or values are NULL");
  for (int i = 0; i < num_reqs; ++i) {
    MX_CHECK(req_keys[i] != nullptr, kInvalidArgument, "grad_req key ", i, " is NULL");
    MX_CHECK(reqs[i] >= MX_GRAD_NULL && reqs[i] <= MX_GRAD_ADD, kInvalidArgument, "grad_req of '", req_keys[i],
             "': ", reqs[i], " is not null (0), write (1), inplace (2) or add (3)");
    req_map[req_keys[i]] = reqs[i];
  }
  *out = Slab<mx_executor>::make(
      mx::exec::GraphExecutor::simple_bind(s, dev, shapes, types, req_map, exec_options(flags)), kExecutorMagic);
  MX_API_END();
}

MX_API void mx_executor_free(mx_executor* exec) {
  if (!exec || exec->magic != kExecutorMagic) return;
  exec->magic = kDeadMagic;
  Slab<mx_executor>::release(exec);
}

MX_API int mx_executor_forward(mx_executor* exec, int is_train) {
  MX_API_BEGIN();
  get_exec(exec).forward(is_train != 0);
  MX_API_END();
}

MX_API int mx_executor_backward(mx_executor* exec, int num, mx_ndarray* const* out_grads) {
  MX_API_BEGIN();
  mx::exec::GraphExecutor& e = get_exec(exec);
  std::vector<mx::NDArray> g = arrays(num, out_grads, "output gradient", true);
  e.backward(g);
  MX_API_END();
}

MX_API int mx_executor_num(mx_executor* exec, int which, size_t* n) {
  MX_API_BEGIN();
  mx::exec::GraphExecutor& e = get_exec(exec);
  check_out(n, "n");
  switch (which) {
    case 0: *n = e.args().size(); break;
    case 1: *n = e.arg_grads().size(); break;
    case 2: *n = e.aux().size(); break;
    case 3: *n = e.outputs().size(); break;
    default: MX_THROW(kInvalidArgument, "mx_executor_num: which ", which, " is not 0 (arguments), 1 (gradients), ",
                      "2 (auxiliary states) or 3 (outputs)");
  }
  MX_API_END();
}

MX_API int mx_executor_get(mx_executor* exec, int which, size_t i, mx_ndarray** out) {
  MX_API_BEGIN();
  mx::exec::GraphExecutor& e = get_exec(exec);
  check_out(out, "out");
  const std::vector<mx::NDArray>* v = nullptr;
  switch (which) {
    case 0: v = &e.args(); break;
    case 1: v = &e.arg_grads(); break;
    case 2: v = &e.aux(); break;
    case 3: v = &e.outputs(); break;
    default: MX_THROW(kInvalidArgument, "mx_executor_get: which ", which, " is not 0 (arguments), 1 (gradients), ",
                      "2 (auxiliary states) or 3 (outputs)");
  }
  MX_CHECK(i < v->size(), kIndex, "mx_executor_get: index ", i, " is out of range for ", v->size(), " arrays");
  *out = (*v)[i].is_none() ? nullptr : mx::capi::new_handle((*v)[i].detached());
  MX_API_END();
}

MX_API int mx_executor_reshape(mx_executor* exec, int num_shapes, const char* const* shape_keys, const int* ndims,
                               const int64_t* dims, int partial_shaping, int allow_up_sizing, mx_executor** out) {
  MX_API_BEGIN();
  mx::exec::GraphExecutor& e = get_exec(exec);
  check_out(out, "out");
  std::map<std::string, mx::Shape> shapes = shape_map(num_shapes, shape_keys, ndims, dims);
  *out = Slab<mx_executor>::make(e.reshape(shapes, partial_shaping != 0, allow_up_sizing != 0), kExecutorMagic);
  MX_API_END();
}

MX_API int mx_executor_memory(mx_executor* exec, size_t* planned_bytes, size_t* naive_bytes) {
  MX_API_BEGIN();
  mx::exec::GraphExecutor& e = get_exec(exec);
  check_out(planned_bytes, "planned_bytes");
  check_out(naive_bytes, "naive_bytes");
  *planned_bytes = e.memory_plan().planned_bytes;
  *naive_bytes = e.memory_plan().naive_bytes;
  MX_API_END();
}

MX_API int mx_cached_op_create(mx_symbol* sym, int num_flags, const char* const* keys, const char* const* vals,
                               int exec_flags, mx_cached_op** out) {
  MX_API_BEGIN();
  check_out(out, "out");
  const mx::graph::Symbol& s = mx::capi::get_symbol(sym);
  MX_CHECK(num_flags >= 0 && (num_flags == 0 || (keys && vals)), kInvalidArgument, "cached op flag keys or values are NULL");
  mx::exec::CachedOpFlags f;
  for (int i = 0; i < num_flags; ++i) {
    MX_CHECK(keys[i] != nullptr, kInvalidArgument, "cached op flag key ", i, " is NULL");
    const std::string k = keys[i];
    if (k == "static_alloc") f.static_alloc = parse_flag(keys[i], vals[i]);
    else if (k == "static_shape") f.static_shape = parse_flag(keys[i], vals[i]);
    else MX_THROW(kInvalidArgument, "unknown cached op flag '", k, "' (known: static_alloc, static_shape)");
  }
  f.plan_memory = exec_options(exec_flags).plan_memory;
  std::unique_ptr<mx::exec::CachedOp> c(new mx::exec::CachedOp(s, f));
  *out = Slab<mx_cached_op>::make(std::move(c), kCachedOpMagic);
  MX_API_END();
}

MX_API void mx_cached_op_free(mx_cached_op* op) {
  if (!op || op->magic != kCachedOpMagic) return;
  op->magic = kDeadMagic;
  Slab<mx_cached_op>::release(op);
}

MX_API int mx_cached_op_invoke(mx_cached_op* op, int num_inputs, mx_ndarray* const* inputs,
                               mx_ndarray_list** outputs) {
  MX_API_BEGIN();
  mx::exec::CachedOp& c = get_cached(op);
  check_out(outputs, "outputs");
  std::vector<mx::NDArray> in = arrays(num_inputs, inputs, "input", false);
  std::vector<mx::NDArray> res = c.forward(in);
  auto* l = new mx_ndarray_list();
  l->magic = kLiveMagic;
  l->arrays = std::move(res);
  *outputs = l;
  MX_API_END();
}

MX_API int mx_cached_op_memory(mx_cached_op* op, size_t* planned_bytes, size_t* naive_bytes) {
  MX_API_BEGIN();
  mx::exec::CachedOp& c = get_cached(op);
  check_out(planned_bytes, "planned_bytes");
  check_out(naive_bytes, "naive_bytes");
  *planned_bytes = c.planned_bytes();
  *naive_bytes = c.naive_bytes();
  MX_API_END();
}

}  // extern "C"
