// The C ABI: library info, NDArray handles and views, the op registry and invoke, random, memory.
#include <cstring>
#include <mutex>
#include <new>

#include "autograd/autograd.h"
#include "base/random.h"
#include "c_api/c_api_internal.h"
#include "engine/engine.h"
#include "kernels/cpu/dnnl/dnnl_ops.h"
#include "op/imperative.h"
#include "op/kernel_util.h"

namespace mx {
namespace capi {
namespace {

thread_local std::string t_error;
thread_local int t_status = MX_OK;

// Slab of handle slots: freed slots keep their memory (marked dead) and are reused later.
struct HandleSlab {
  std::mutex mu;
  std::vector<mx_ndarray*> free_slots;
};
HandleSlab& slab() {
  static HandleSlab* s = new HandleSlab();
  return *s;
}

}  // namespace

void set_error(int status, const std::string& msg) {
  t_status = status;
  t_error = msg;
}

int status_of(ErrorCode c) { return static_cast<int>(c); }

// A few freed slots stay with the thread that freed them (no lock on the hot path).
constexpr size_t kThreadSlots = 64;
struct ThreadSlots : std::vector<mx_ndarray*> {
  ~ThreadSlots() {  // a finishing thread hands its slots back
    HandleSlab& s = slab();
    std::lock_guard<std::mutex> lk(s.mu);
    s.free_slots.insert(s.free_slots.end(), begin(), end());
  }
};
thread_local ThreadSlots t_slots;

mx_ndarray* new_handle(NDArray arr) {
  mx_ndarray* h = nullptr;
  if (!t_slots.empty()) {
    h = t_slots.back();
    t_slots.pop_back();
  } else {
    HandleSlab& s = slab();
    std::lock_guard<std::mutex> lk(s.mu);
    if (!s.free_slots.empty()) {
      h = s.free_slots.back();
      s.free_slots.pop_back();
    }
  }
  if (!h) h = static_cast<mx_ndarray*>(::operator new(sizeof(mx_ndarray)));
  new (&h->arr) NDArray(std::move(arr));
  h->magic = kLiveMagic;
  return h;
}

void free_handle(mx_ndarray* h) {
  if (!h || h->magic != kLiveMagic) return;
  h->magic = kDeadMagic;
  h->arr.~NDArray();
  if (t_slots.size() < kThreadSlots) {
    t_slots.push_back(h);
    return;
  }
  HandleSlab& s = slab();
  std::lock_guard<std::mutex> lk(s.mu);
  s.free_slots.push_back(h);
}

const NDArray& get(const mx_ndarray* h, const char* what) {
  MX_CHECK(h != nullptr, kHandle, what, " handle is NULL");
  MX_CHECK(h->magic == kLiveMagic, kHandle, what, " handle is invalid or was already freed");
  return h->arr;
}

const mx_op* get_op_handle(const OpDef* def) {
  static std::mutex mu;
  static std::unordered_map<const OpDef*, mx_op*>* map = new std::unordered_map<const OpDef*, mx_op*>();
  std::lock_guard<std::mutex> lk(mu);
  auto it = map->find(def);
  if (it != map->end()) return it->second;
  mx_op* h = new mx_op();
  h->magic = kLiveMagic;
  h->def = def;
  for (const auto& p : def->params()) {
    h->param_names.push_back(p.name.c_str());
    h->param_types.push_back(p.type_str.c_str());
    h->param_defaults.push_back(p.default_value.c_str());
    h->param_docs.push_back(p.doc.c_str());
  }
  for (const auto& n : def->input_names()) h->input_names.push_back(n.c_str());
  try {
    h->defaults = Params::defaults(*def);
  } catch (const Error&) {
    // required parameters: invoking without parameters reports them missing each time
  }
  (*map)[def] = h;
  return h;
}

}  // namespace capi
}  // namespace mx

using mx::capi::check_out;
using mx::capi::get;

namespace {

const mx::OpDef& get_op(const mx_op* op) {
  MX_CHECK(op != nullptr, kHandle, "op handle is NULL");
  MX_CHECK(op->magic == kLiveMagic, kHandle, "op handle is invalid");
  return *op->def;
}

mx::ParamsPtr get_params(const mx_op* op, const mx_op_params* p) {
  const mx::OpDef& def = get_op(op);
  if (!p) return op->defaults ? op->defaults : mx::Params::defaults(def);
  MX_CHECK(p->magic == kLiveMagic, kHandle, "op params handle is invalid or was already freed");
  MX_CHECK(&p->params->op() == &def, kInvalidArgument, "parameters were created for operator ",
           p->params->op().name(), ", not for ", def.name());
  return p->params;
}

mx::Shape make_shape(const int64_t* shape, int ndim) {
  MX_CHECK(ndim >= 0 && ndim <= mx::Shape::kMaxDim, kShape, "ndim must be in [0, ", mx::Shape::kMaxDim, "], got ", ndim);
  MX_CHECK(ndim == 0 || shape != nullptr, kInvalidArgument, "shape is NULL but ndim is ", ndim);
  return mx::Shape(shape, ndim);
}

mx::DType make_dtype(int dtype) {
  MX_CHECK(mx::dtype_valid(dtype), kDType, "unknown dtype flag ", dtype,
           " (expected 0 float32, 1 float64, 2 float16, 3 uint8, 4 int32, 5 int8, 6 int64, 7 bool, 12 bfloat16)");
  return static_cast<mx::DType>(dtype);
}

mx::Device make_device(int dev_type, int dev_id) {
  MX_CHECK(dev_type == MX_CPU || dev_type == MX_GPU || dev_type == MX_CPU_PINNED, kInvalidArgument,
           "unknown device type ", dev_type, " (expected 1 cpu, 2 gpu, 3 cpu_pinned)");
  mx::Device d{static_cast<mx::DeviceType>(dev_type), dev_id};
  mx::check_device(d);
  return d;
}

// Per-thread argument vectors for invoke, reused so the hot path does not allocate them. A
// re-entrant call (a deleter calling back into libmx while the vectors are in use) gets its own.
struct InvokeScratch {
  std::vector<mx::NDArray> in, out;
  std::vector<mx_ndarray*> fresh;
  bool busy = false;
};
thread_local InvokeScratch t_invoke;

void invoke_impl(const mx::OpDef& def, const mx::ParamsPtr& params, int num_inputs, mx_ndarray* const* inputs,
                 int num_outputs, mx_ndarray** outputs) {
  MX_CHECK(num_inputs >= 0, kInvalidArgument, "num_inputs is negative");
  MX_CHECK(num_inputs == 0 || inputs != nullptr, kInvalidArgument, "inputs is NULL");
  MX_CHECK(num_outputs >= 0 && (num_outputs == 0 || outputs != nullptr), kInvalidArgument, "outputs is NULL");
  InvokeScratch local;
  InvokeScratch& sc = t_invoke.busy ? local : t_invoke;
  struct Release {  // drops the array references however the call ends
    InvokeScratch& sc;
    ~Release() {
      sc.in.clear();
      sc.out.clear();
      sc.busy = false;
    }
  } release{sc};
  sc.busy = true;
  std::vector<mx::NDArray>& in = sc.in;
  std::vector<mx::NDArray>& out = sc.out;
  // Callers see the visible outputs only; hidden ones (kept by autograd) are allocated here.
  const int visible = def.num_visible_outputs(*params);
  MX_CHECK(num_outputs == visible, kInvalidArgument, "operator ", def.name(), " produces ", visible,
           " output(s), got ", num_outputs, " output slot(s)");
  for (int i = 0; i < num_inputs; ++i) in.push_back(get(inputs[i], "input array"));
  out.resize(def.num_outputs(*params));
  for (int i = 0; i < num_outputs; ++i)
    if (outputs[i]) out[i] = get(outputs[i], "output array");
  mx::invoke(def, params, in, &out);
  // Allocate every new handle before touching the slots, so a failure leaves them unchanged.
  std::vector<mx_ndarray*>& fresh = sc.fresh;
  fresh.assign(num_outputs, nullptr);
  try {
    for (int i = 0; i < num_outputs; ++i)
      if (!outputs[i]) fresh[i] = mx::capi::new_handle(out[i]);
  } catch (...) {
    for (mx_ndarray* h : fresh) mx::capi::free_handle(h);
    throw;
  }
  for (int i = 0; i < num_outputs; ++i)
    if (fresh[i]) outputs[i] = fresh[i];
}

// While recording, a view of an array in a graph is taken through an op so the graph sees it.
bool view_needs_op(const mx::NDArray& a) { return mx::autograd::is_recording() && a.ag_node(); }

mx::NDArray recorded_op(const char* op, const mx::NDArray& in, const mx::ParamList& params) {
  const mx::OpDef& def = mx::get_op(op);
  std::vector<mx::NDArray> out(1);
  mx::invoke(def, mx::Params::parse(def, params), {in}, &out);
  return out[0];
}

}  // namespace

extern "C" {

MX_API int mx_abi_version(void) { return MX_ABI_VERSION; }
MX_API const char* mx_last_error(void) { return mx::capi::t_error.c_str(); }
MX_API int mx_last_status(void) { return mx::capi::t_status; }

MX_API int mx_lib_info(const char* key, const char** value) {
  MX_API_BEGIN();
  MX_CHECK(key != nullptr, kInvalidArgument, "key is NULL");
  check_out(value, "value");
  static const std::string num_threads = std::to_string(mx::num_threads());
  std::string k(key);
  const char* v = nullptr;
  if (k == "version") v = MX_VERSION_STRING;
  else if (k == "cuda") {
#ifdef MX_USE_CUDA
    v = "1";
#else
    v = "0";
#endif
  } else if (k == "blas") v = MX_BLAS_NAME;
  else if (k == "dnnl") v = mx::dnnl::enabled() ? mx::dnnl::library_info() : (std::string(mx::dnnl::library_info()) == "none" ? "none" : "disabled (MX_DNNL=0)");
  else if (k == "openmp") {
#ifdef MX_USE_OPENMP
    v = "1";
#else
    v = "0";
#endif
  } else if (k == "engine") v = mx::engine::engine_type();
  else if (k == "num_threads") v = num_threads.c_str();
  else MX_THROW(kNotFound, "unknown library info key '", k, "' (known: version, cuda, blas, dnnl, openmp, engine, num_threads)");
  *value = v;
  MX_API_END();
}

MX_API int mx_gpu_count(int* out) {
  MX_API_BEGIN();
  check_out(out, "out");
  *out = 0;
  MX_API_END();
}

// ---------------------------------------------------------------- NDArray
MX_API int mx_ndarray_create(const int64_t* shape, int ndim, int dtype, int dev_type, int dev_id, mx_ndarray** out) {
  MX_API_BEGIN();
  check_out(out, "out");
  mx::NDArray arr(make_shape(shape, ndim), make_device(dev_type, dev_id), make_dtype(dtype));
  *out = mx::capi::new_handle(std::move(arr));
  MX_API_END();
}

MX_API int mx_ndarray_wrap(void* data, const int64_t* shape, int ndim, int dtype, int dev_type, int dev_id,
                           mx_deleter deleter, void* deleter_ctx, mx_ndarray** out) {
  MX_API_BEGIN();
  check_out(out, "out");
  mx::Shape s = make_shape(shape, ndim);
  mx::DType t = make_dtype(dtype);
  mx::Device d = make_device(dev_type, dev_id);
  size_t bytes = mx::checked_nbytes(s, t);
  MX_CHECK(data != nullptr || bytes == 0, kInvalidArgument, "data is NULL for a non-empty array");
  auto st = mx::Storage::wrap(data, bytes, d, nullptr, nullptr);
  mx_ndarray* h = mx::capi::new_handle(mx::NDArray(st, s, t, 0));
  // Only now, with nothing left to fail, does libmx take ownership.
  st->set_deleter(deleter, deleter_ctx);
  *out = h;
  MX_API_END();
}

MX_API void mx_ndarray_free(mx_ndarray* arr) { mx::capi::free_handle(arr); }

MX_API int mx_ndarray_shape(const mx_ndarray* arr, int* ndim, const int64_t** shape) {
  MX_API_BEGIN();
  const mx::NDArray& a = get(arr);
  check_out(ndim, "ndim");
  check_out(shape, "shape");
  *ndim = a.shape().ndim();
  *shape = a.shape().data();
  MX_API_END();
}

MX_API int mx_ndarray_dtype(const mx_ndarray* arr, int* dtype) {
  MX_API_BEGIN();
  const mx::NDArray& a = get(arr);
  check_out(dtype, "dtype");
  *dtype = static_cast<int>(a.dtype());
  MX_API_END();
}

MX_API int mx_ndarray_device(const mx_ndarray* arr, int* dev_type, int* dev_id) {
  MX_API_BEGIN();
  const mx::NDArray& a = get(arr);
  check_out(dev_type, "dev_type");
  check_out(dev_id, "dev_id");
  *dev_type = static_cast<int>(a.device().type);
  *dev_id = a.device().id;
  MX_API_END();
}

MX_API int mx_ndarray_data(mx_ndarray* arr, void** data) {
  MX_API_BEGIN();
  const mx::NDArray& a = get(arr);
  check_out(data, "data");
  a.wait_to_read();
  *data = a.raw_data();
  MX_API_END();
}

MX_API int mx_ndarray_storage_id(const mx_ndarray* arr, uint64_t* id) {
  MX_API_BEGIN();
  const mx::NDArray& a = get(arr);
  check_out(id, "id");
  *id = a.storage()->id();
  MX_API_END();
}

MX_API int mx_ndarray_copy_from_host(mx_ndarray* arr, const void* src, size_t nbytes) {
  MX_API_BEGIN();
  const mx::NDArray& a = get(arr);
  MX_CHECK(src != nullptr || nbytes == 0, kInvalidArgument, "src is NULL");
  a.copy_from_host(src, nbytes);
  MX_API_END();
}

MX_API int mx_ndarray_copy_to_host(mx_ndarray* arr, void* dst, size_t nbytes) {
  MX_API_BEGIN();
  const mx::NDArray& a = get(arr);
  MX_CHECK(dst != nullptr || nbytes == 0, kInvalidArgument, "dst is NULL");
  a.copy_to_host(dst, nbytes);
  MX_API_END();
}

MX_API int mx_ndarray_copyto(mx_ndarray* src, mx_ndarray* dst) {
  MX_API_BEGIN();
  mx::copy_ndarray(get(src, "source array"), get(dst, "destination array"));
  MX_API_END();
}

MX_API int mx_ndarray_reshape(mx_ndarray* arr, const int64_t* shape, int ndim, mx_ndarray** out) {
  MX_API_BEGIN();
  const mx::NDArray& a = get(arr);
  check_out(out, "out");
  mx::NDArray v = a.reshape(make_shape(shape, ndim));
  if (view_needs_op(a)) v = recorded_op("Reshape", a, {{"shape", mx::tuple_param(v.shape())}});
  *out = mx::capi::new_handle(std::move(v));
  MX_API_END();
}

MX_API int mx_ndarray_slice(mx_ndarray* arr, int64_t begin, int64_t end, mx_ndarray** out) {
  MX_API_BEGIN();
  const mx::NDArray& a = get(arr);
  check_out(out, "out");
  mx::NDArray v = a.slice(begin, end);
  if (view_needs_op(a))
    v = recorded_op("slice_axis", a, {{"axis", "0"}, {"begin", std::to_string(begin)}, {"end", std::to_string(end)}});
  *out = mx::capi::new_handle(std::move(v));
  MX_API_END();
}

MX_API int mx_ndarray_at(mx_ndarray* arr, int64_t idx, mx_ndarray** out) {
  MX_API_BEGIN();
  const mx::NDArray& a = get(arr);
  check_out(out, "out");
  mx::NDArray v = a.at(idx);
  if (view_needs_op(a)) {
    int64_t i = idx < 0 ? idx + a.shape()[0] : idx;
    mx::NDArray row = recorded_op("slice_axis", a, {{"axis", "0"}, {"begin", std::to_string(i)}, {"end", std::to_string(i + 1)}});
    v = recorded_op("Reshape", row, {{"shape", mx::tuple_param(v.shape())}});
  }
  *out = mx::capi::new_handle(std::move(v));
  MX_API_END();
}

MX_API int mx_ndarray_wait_to_read(mx_ndarray* arr) {
  MX_API_BEGIN();
  get(arr).wait_to_read();
  MX_API_END();
}

MX_API int mx_ndarray_wait_to_write(mx_ndarray* arr) {
  MX_API_BEGIN();
  get(arr).wait_to_write();
  MX_API_END();
}

MX_API int mx_wait_all(void) {
  MX_API_BEGIN();
  mx::engine::wait_all();
  MX_API_END();
}

// ---------------------------------------------------------------- ops
MX_API int mx_op_list(size_t* count, const char* const** names) {
  MX_API_BEGIN();
  check_out(count, "count");
  check_out(names, "names");
  static std::vector<const char*>* ptrs = [] {
    auto* v = new std::vector<const char*>();
    for (const auto& n : mx::op_names()) v->push_back(n.c_str());
    return v;
  }();
  *count = ptrs->size();
  *names = ptrs->data();
  MX_API_END();
}

MX_API int mx_op_find(const char* name, const mx_op** op) {
  MX_API_BEGIN();
  MX_CHECK(name != nullptr, kInvalidArgument, "op name is NULL");
  check_out(op, "op");
  const mx::OpDef& def = mx::get_op(name);
  *op = mx::capi::get_op_handle(&def);
  MX_API_END();
}

MX_API int mx_op_info(const mx_op* op, const char** name, const char** doc, int* num_params,
                      const char* const** param_names, const char* const** param_types,
                      const char* const** param_defaults, const char* const** param_docs, int* num_inputs,
                      const char* const** input_names, const char** key_var_num_args) {
  MX_API_BEGIN();
  const mx::OpDef& def = get_op(op);
  if (name) *name = def.name().c_str();
  if (doc) *doc = def.doc().c_str();
  if (num_params) *num_params = static_cast<int>(op->param_names.size());
  if (param_names) *param_names = op->param_names.data();
  if (param_types) *param_types = op->param_types.data();
  if (param_defaults) *param_defaults = op->param_defaults.data();
  if (param_docs) *param_docs = op->param_docs.data();
  if (num_inputs) *num_inputs = static_cast<int>(op->input_names.size());
  if (input_names) *input_names = op->input_names.data();
  if (key_var_num_args) *key_var_num_args = def.key_var_num_args().c_str();
  MX_API_END();
}

MX_API int mx_op_attr(const mx_op* op, const char* key, const char** value) {
  MX_API_BEGIN();
  const mx::OpDef& def = get_op(op);
  MX_CHECK(key != nullptr, kInvalidArgument, "key is NULL");
  check_out(value, "value");
  const char* v = def.attr(key);
  MX_CHECK(v != nullptr, kNotFound, "operator ", def.name(), " has no attribute '", key, "'");
  *value = v;
  MX_API_END();
}

MX_API int mx_op_params_create(const mx_op* op, int num, const char* const* keys, const char* const* values,
                               mx_op_params** out) {
  MX_API_BEGIN();
  const mx::OpDef& def = get_op(op);
  check_out(out, "out");
  MX_CHECK(num >= 0, kInvalidArgument, "num is negative");
  MX_CHECK(num == 0 || (keys && values), kInvalidArgument, "keys or values is NULL");
  std::vector<std::pair<std::string, std::string>> kv;
  kv.reserve(num);
  for (int i = 0; i < num; ++i) {
    MX_CHECK(keys[i] && values[i], kInvalidArgument, "parameter ", i, " has a NULL key or value");
    kv.emplace_back(keys[i], values[i]);
  }
  mx::ParamsPtr p = mx::Params::parse(def, kv);
  *out = new mx_op_params{kLiveMagic, op, std::move(p)};
  MX_API_END();
}

MX_API void mx_op_params_free(mx_op_params* params) {
  if (!params || params->magic != kLiveMagic) return;
  params->magic = kDeadMagic;
  delete params;
}

MX_API int mx_op_arity(const mx_op* op, const mx_op_params* params, int* num_inputs, int* num_outputs) {
  MX_API_BEGIN();
  const mx::OpDef& def = get_op(op);
  mx::ParamsPtr p = get_params(op, params);
  int ni = def.num_inputs(*p), no = def.num_visible_outputs(*p);
  if (num_inputs) *num_inputs = ni;
  if (num_outputs) *num_outputs = no;
  MX_API_END();
}

MX_API int mx_op_invoke(const mx_op* op, const mx_op_params* params, int num_inputs, mx_ndarray* const* inputs,
                        int num_outputs, mx_ndarray** outputs) {
  MX_API_BEGIN();
  const mx::OpDef& def = get_op(op);
  invoke_impl(def, get_params(op, params), num_inputs, inputs, num_outputs, outputs);
  MX_API_END();
}

MX_API int mx_op_invoke_by_name(const char* name, int num_params, const char* const* keys, const char* const* values,
                                int num_inputs, mx_ndarray* const* inputs, int* num_outputs, mx_ndarray** outputs) {
  MX_API_BEGIN();
  MX_CHECK(name != nullptr, kInvalidArgument, "op name is NULL");
  check_out(num_outputs, "num_outputs");
  const mx::OpDef& def = mx::get_op(name);
  MX_CHECK(num_params >= 0, kInvalidArgument, "num_params is negative");
  MX_CHECK(num_params == 0 || (keys && values), kInvalidArgument, "keys or values is NULL");
  std::vector<std::pair<std::string, std::string>> kv;
  for (int i = 0; i < num_params; ++i) {
    MX_CHECK(keys[i] && values[i], kInvalidArgument, "parameter ", i, " has a NULL key or value");
    kv.emplace_back(keys[i], values[i]);
  }
  mx::ParamsPtr p = mx::Params::parse(def, kv);
  int nout = def.num_visible_outputs(*p);
  MX_CHECK(*num_outputs >= nout, kInvalidArgument, "operator ", def.name(), " produces ", nout,
           " outputs but the outputs array has room for ", *num_outputs);
  invoke_impl(def, p, num_inputs, inputs, nout, outputs);
  *num_outputs = nout;
  MX_API_END();
}

// ---------------------------------------------------------------- training mode
MX_API int mx_autograd_set_training(int training, int* prev) {
  MX_API_BEGIN();
  bool p = mx::set_training(training != 0);
  if (prev) *prev = p ? 1 : 0;
  MX_API_END();
}

MX_API int mx_autograd_is_training(int* out) {
  MX_API_BEGIN();
  check_out(out, "out");
  *out = mx::is_training() ? 1 : 0;
  MX_API_END();
}

// ---------------------------------------------------------------- random, memory
MX_API int mx_random_seed(uint64_t seed) {
  MX_API_BEGIN();
  mx::random_set_seed(seed);
  MX_API_END();
}

MX_API int mx_storage_release_cached(int dev_type, int dev_id) {
  MX_API_BEGIN();
  mx::Storage::release_cached(make_device(dev_type, dev_id));
  MX_API_END();
}

MX_API int mx_storage_stats(int dev_type, int dev_id, size_t* in_use, size_t* cached) {
  MX_API_BEGIN();
  check_out(in_use, "in_use");
  check_out(cached, "cached");
  size_t a, b;
  mx::Storage::stats(make_device(dev_type, dev_id), &a, &b);
  *in_use = a;
  *cached = b;
  MX_API_END();
}

}  // extern "C"
