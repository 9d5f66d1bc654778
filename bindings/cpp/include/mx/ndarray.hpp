// MX C++ package: mx::NDArray, an RAII handle over mx_ndarray.
// Include <mx/mx.hpp> rather than this file (the arithmetic operators are defined in operator.hpp).
#ifndef MX_CPP_NDARRAY_HPP_
#define MX_CPP_NDARRAY_HPP_

#include <cstring>
#include <functional>
#include <ostream>

#include "mx/base.hpp"

namespace mx {

// An n-dimensional array. Copies share the handle (like MXNet's cpp-package and Python: `NDArray b
// = a;` is the same array, not a copy of the data); the handle is freed with the last copy. Use
// Copy()/CopyTo() for a copy of the data. Ops run asynchronously: reading the data (data(),
// ToVector(), SyncCopyToCPU()) waits for pending writes and rethrows their errors as mx::Error.
class NDArray {
 public:
  // An empty handle (IsNone()); most methods throw on it.
  NDArray() = default;
  // Takes ownership of a handle from the C API.
  explicit NDArray(mx_ndarray* handle) {
    if (handle) handle_.reset(handle, mx_ndarray_free);
  }
  // Uninitialised contents (MXNet's constructor; delay_alloc is accepted for compatibility: libmx
  // allocates lazily anyway).
  explicit NDArray(const mx::Shape& shape, const Context& ctx = Context::cpu(), bool delay_alloc = true,
                   int dtype = kFloat32) {
    (void)delay_alloc;
    mx_ndarray* h = nullptr;
    detail::Check(mx_ndarray_create(shape.data(), static_cast<int>(shape.ndim()), dtype,
                                    ctx.GetDeviceType(), ctx.GetDeviceId(), &h));
    handle_.reset(h, mx_ndarray_free);
  }
  // float32 array holding a copy of data (data.size() must equal shape.Size()).
  NDArray(const std::vector<float>& data, const mx::Shape& shape, const Context& ctx = Context::cpu())
      : NDArray(shape, ctx, false, kFloat32) {
    SyncCopyFromCPU(data.data(), data.size());
  }
  // float32 array holding a copy of shape.Size() floats at data.
  NDArray(const float* data, const mx::Shape& shape, const Context& ctx = Context::cpu())
      : NDArray(shape, ctx, false, kFloat32) {
    SyncCopyFromCPU(data, static_cast<size_t>(shape.Size()));
  }

  // ---- factories
  static NDArray Empty(const mx::Shape& shape, const Context& ctx = Context::cpu(), int dtype = kFloat32) {
    return NDArray(shape, ctx, true, dtype);
  }
  static NDArray Zeros(const mx::Shape& shape, const Context& ctx = Context::cpu(), int dtype = kFloat32);
  static NDArray Ones(const mx::Shape& shape, const Context& ctx = Context::cpu(), int dtype = kFloat32);
  static NDArray Full(const mx::Shape& shape, double value, const Context& ctx = Context::cpu(),
                      int dtype = kFloat32);
  // An array of T's dtype holding a copy of data.
  template <typename T>
  static NDArray FromVector(const std::vector<T>& data, const mx::Shape& shape,
                            const Context& ctx = Context::cpu()) {
    NDArray a(shape, ctx, false, DTypeOf<T>());
    a.SyncCopyFromCPU(data.data(), data.size());
    return a;
  }
  // Zero-copy: an array over caller memory (C order, contiguous, host memory for a CPU context).
  // On success libmx owns the buffer and runs deleter once (possibly on an engine thread) when the
  // last array using it dies; deleter may be empty. On failure this throws, nothing is taken and
  // deleter never runs: the caller still owns the buffer.
  static NDArray Wrap(void* data, const mx::Shape& shape, int dtype, std::function<void()> deleter = {},
                      const Context& ctx = Context::cpu()) {
    auto* box = new std::function<void()>(std::move(deleter));
    mx_ndarray* h = nullptr;
    int rc = mx_ndarray_wrap(data, shape.data(), static_cast<int>(shape.ndim()), dtype, ctx.GetDeviceType(),
                             ctx.GetDeviceId(), &NDArray::RunDeleter, box, &h);
    if (rc != MX_OK) {
      delete box;
      detail::ThrowLastError(rc);
    }
    return NDArray(h);
  }
  template <typename T>
  static NDArray Wrap(T* data, const mx::Shape& shape, std::function<void()> deleter = {},
                      const Context& ctx = Context::cpu()) {
    return Wrap(static_cast<void*>(data), shape, DTypeOf<T>(), std::move(deleter), ctx);
  }

  // ---- handle
  mx_ndarray* GetHandle() const { return handle_.get(); }
  mx_ndarray* handle() const { return handle_.get(); }
  bool IsNone() const { return !handle_; }

  // ---- inspection
  mx::Shape Shape() const {
    auto s = ShapeData();
    return mx::Shape(s.second, static_cast<size_t>(s.first));
  }
  std::vector<int64_t> GetShape() const { return Shape().dims(); }
  int ndim() const { return ShapeData().first; }
  size_t Size() const {
    auto s = ShapeData();
    size_t n = 1;
    for (int i = 0; i < s.first; ++i) n *= static_cast<size_t>(s.second[i]);
    return n;
  }
  int Dtype() const {
    int d = 0;
    detail::Check(mx_ndarray_dtype(Checked(), &d));
    return d;
  }
  int GetDType() const { return Dtype(); }
  Context GetContext() const {
    int t = 0, id = 0;
    detail::Check(mx_ndarray_device(Checked(), &t, &id));
    return Context(static_cast<DeviceType>(t), id);
  }
  // Same for every array viewing the same storage.
  uint64_t StorageId() const {
    uint64_t id = 0;
    detail::Check(mx_ndarray_storage_id(Checked(), &id));
    return id;
  }

  // ---- synchronisation
  void WaitToRead() const { detail::Check(mx_ndarray_wait_to_read(Checked())); }
  void WaitToWrite() const { detail::Check(mx_ndarray_wait_to_write(Checked())); }
  static void WaitAll() { detail::Check(mx_wait_all()); }

  // ---- data access
  // Address of the first element after pending writes finished. Valid while this array (or a view
  // of its storage) lives; T must be the array's dtype.
  template <typename T = float>
  T* data() const {
    CheckDtype<T>("data");
    void* p = nullptr;
    detail::Check(mx_ndarray_data(Checked(), &p));
    return static_cast<T*>(p);
  }
  const float* GetData() const { return data<float>(); }
  // The same address without a dtype check (float16 / bfloat16 arrays have no C++ element type).
  void* RawData() const {
    void* p = nullptr;
    detail::Check(mx_ndarray_data(Checked(), &p));
    return p;
  }
  // A copy of the values as T (values are cast by libmx when T is not the array's dtype).
  template <typename T = float>
  std::vector<T> ToVector() const {
    if (Dtype() != DTypeOf<T>()) return AsType(DTypeOf<T>()).template ToVector<T>();
    std::vector<T> out(Size());
    SyncCopyToCPU(out.data(), out.size());
    return out;
  }
  // Synchronous copies of exactly Size() elements of the array's dtype.
  template <typename T>
  void SyncCopyFromCPU(const T* src, size_t size) {
    CheckDtype<T>("SyncCopyFromCPU");
    CheckSize(size, "SyncCopyFromCPU");
    detail::Check(mx_ndarray_copy_from_host(Checked(), src, size * sizeof(T)));
  }
  template <typename T>
  void SyncCopyFromCPU(const std::vector<T>& src) {
    SyncCopyFromCPU(src.data(), src.size());
  }
  template <typename T>
  void SyncCopyToCPU(T* dst, size_t size) const {
    CheckDtype<T>("SyncCopyToCPU");
    CheckSize(size, "SyncCopyToCPU");
    detail::Check(mx_ndarray_copy_to_host(Checked(), dst, size * sizeof(T)));
  }
  template <typename T>
  void SyncCopyToCPU(std::vector<T>* dst) const {
    dst->resize(Size());
    SyncCopyToCPU(dst->data(), dst->size());
  }

  // ---- copies and views
  // Asynchronous copy of the values into other (same shape; dtype and device may differ).
  void CopyTo(NDArray* other) const {
    if (!other) detail::Fail(MX_ERR_INVALID_ARGUMENT, "NDArray::CopyTo: the destination is null");
    detail::Check(mx_ndarray_copyto(Checked(), other->Checked()));
  }
  // A new array with a copy of the values on ctx.
  NDArray Copy(const Context& ctx) const {
    NDArray out(Shape(), ctx, true, Dtype());
    CopyTo(&out);
    return out;
  }
  NDArray Copy() const { return Copy(GetContext()); }
  NDArray CopyTo(const Context& ctx) const { return Copy(ctx); }
  // Views sharing the storage.
  NDArray Reshape(const mx::Shape& shape) const {
    mx_ndarray* h = nullptr;
    detail::Check(mx_ndarray_reshape(Checked(), shape.data(), static_cast<int>(shape.ndim()), &h));
    return NDArray(h);
  }
  // Rows [begin, end) along axis 0.
  NDArray Slice(int64_t begin, int64_t end) const {
    mx_ndarray* h = nullptr;
    detail::Check(mx_ndarray_slice(Checked(), begin, end, &h));
    return NDArray(h);
  }
  // Row idx along axis 0, that axis dropped (negative counts from the end).
  NDArray At(int64_t idx) const {
    mx_ndarray* h = nullptr;
    detail::Check(mx_ndarray_at(Checked(), idx, &h));
    return NDArray(h);
  }
  // A copy cast to dtype (the Cast op).
  NDArray AsType(int dtype) const;
  // The same data, cut from the autograd graph.
  NDArray Detach() const {
    mx_ndarray* h = nullptr;
    detail::Check(mx_ndarray_detach(Checked(), &h));
    return NDArray(h);
  }

  // ---- autograd (see mx/autograd.hpp)
  // Allocates a zero gradient buffer and marks this array as a variable. grad_req: "write", "add"
  // or "null".
  void AttachGrad(const std::string& grad_req = "write");
  // The gradient buffer (IsNone() when no gradient is attached).
  NDArray Grad() const {
    mx_ndarray* h = nullptr;
    detail::Check(mx_ndarray_get_grad(Checked(), &h));
    return NDArray(h);
  }
  // Backward from this array (head gradient ones when head_grad IsNone()).
  void Backward(const NDArray& head_grad = NDArray(), bool retain_graph = false, bool train_mode = true) const;

  // ---- in-place fill and arithmetic (ops in libmx; defined in operator.hpp)
  NDArray& operator=(double scalar);
  NDArray& operator+=(const NDArray& rhs);
  NDArray& operator-=(const NDArray& rhs);
  NDArray& operator*=(const NDArray& rhs);
  NDArray& operator/=(const NDArray& rhs);
  NDArray& operator+=(double rhs);
  NDArray& operator-=(double rhs);
  NDArray& operator*=(double rhs);
  NDArray& operator/=(double rhs);

  // ---- files: MXNet's binary NDArray format (.params / .nd)
  static void Save(const std::string& path, const std::vector<NDArray>& arrays) {
    auto hs = Handles(arrays);
    detail::Check(mx_ndarray_save(path.c_str(), hs.size(), hs.data(), nullptr));
  }
  static void Save(const std::string& path, const std::map<std::string, NDArray>& arrays) {
    std::vector<mx_ndarray*> hs;
    std::vector<const char*> names;
    for (const auto& kv : arrays) {
      hs.push_back(kv.second.Checked());
      names.push_back(kv.first.c_str());
    }
    detail::Check(mx_ndarray_save(path.c_str(), hs.size(), hs.data(), names.data()));
  }
  static void Save(const std::string& path, std::initializer_list<NDArray> arrays) {
    Save(path, std::vector<NDArray>(arrays));
  }
  static std::string SaveToBuffer(std::initializer_list<NDArray> arrays) {
    return SaveToBuffer(std::vector<NDArray>(arrays));
  }
  static std::string SaveToBuffer(const std::vector<NDArray>& arrays) {
    auto hs = Handles(arrays);
    return SaveBuffer(hs, nullptr);
  }
  static std::string SaveToBuffer(const std::map<std::string, NDArray>& arrays) {
    std::vector<mx_ndarray*> hs;
    std::vector<const char*> names;
    for (const auto& kv : arrays) {
      hs.push_back(kv.second.Checked());
      names.push_back(kv.first.c_str());
    }
    return SaveBuffer(hs, names.data());
  }
  // Loads a file holding a list or a dict; either output may be null. A dict fills array_map (and
  // array_list in file order); a list fills array_list (array_map stays empty).
  static void Load(const std::string& path, std::vector<NDArray>* array_list = nullptr,
                   std::map<std::string, NDArray>* array_map = nullptr) {
    mx_ndarray_list* l = nullptr;
    detail::Check(mx_ndarray_load(path.c_str(), &l));
    FromList(l, array_list, array_map);
  }
  static void LoadFromBuffer(const void* buf, size_t len, std::vector<NDArray>* array_list = nullptr,
                             std::map<std::string, NDArray>* array_map = nullptr) {
    mx_ndarray_list* l = nullptr;
    detail::Check(mx_ndarray_load_from_buffer(buf, len, &l));
    FromList(l, array_list, array_map);
  }
  static void LoadFromBuffer(const std::string& buf, std::vector<NDArray>* array_list = nullptr,
                             std::map<std::string, NDArray>* array_map = nullptr) {
    LoadFromBuffer(buf.data(), buf.size(), array_list, array_map);
  }
  static std::vector<NDArray> LoadToList(const std::string& path) {
    std::vector<NDArray> v;
    Load(path, &v, nullptr);
    return v;
  }
  // Throws when the file holds a list without names.
  static std::map<std::string, NDArray> LoadToMap(const std::string& path) {
    std::vector<NDArray> v;
    std::map<std::string, NDArray> m;
    Load(path, &v, &m);
    if (m.empty() && !v.empty())
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "NDArray::LoadToMap: '" + path + "' holds a list without names");
    return m;
  }

  // Handles of arrays for C calls (throws on an empty NDArray).
  static std::vector<mx_ndarray*> Handles(const std::vector<NDArray>& arrays) {
    std::vector<mx_ndarray*> hs;
    hs.reserve(arrays.size());
    for (const auto& a : arrays) hs.push_back(a.Checked());
    return hs;
  }
  mx_ndarray* Checked() const {
    if (!handle_) detail::Fail(MX_ERR_HANDLE, "mx::NDArray: the array is empty (default-constructed or moved from)");
    return handle_.get();
  }

 private:
  static void RunDeleter(void* ctx) noexcept {
    auto* fn = static_cast<std::function<void()>*>(ctx);
    try {
      if (*fn) (*fn)();
    } catch (...) {
      // A deleter runs inside libmx (maybe on an engine thread): an exception must not escape.
    }
    delete fn;
  }
  std::pair<int, const int64_t*> ShapeData() const {
    int nd = 0;
    const int64_t* dims = nullptr;
    detail::Check(mx_ndarray_shape(Checked(), &nd, &dims));
    return {nd, dims};
  }
  template <typename T>
  void CheckDtype(const char* what) const {
    int d = Dtype();
    if (d != DTypeOf<T>())
      detail::Fail(MX_ERR_DTYPE, std::string("NDArray::") + what + ": the array is " + DTypeName(d) +
                                     ", the C++ element type is " + DTypeName(DTypeOf<T>()));
  }
  void CheckSize(size_t size, const char* what) const {
    if (size != Size())
      detail::Fail(MX_ERR_INVALID_ARGUMENT, std::string("NDArray::") + what + ": " + std::to_string(size) +
                                                " elements given, the array " + Shape().ToString() + " has " +
                                                std::to_string(Size()));
  }
  static std::string SaveBuffer(const std::vector<mx_ndarray*>& hs, const char* const* names) {
    void* buf = nullptr;
    size_t len = 0;
    detail::Check(mx_ndarray_save_to_buffer(hs.size(), hs.data(), names, &buf, &len));
    std::string out(static_cast<const char*>(buf), len);
    mx_buffer_free(buf);
    return out;
  }
  static void FromList(mx_ndarray_list* l, std::vector<NDArray>* array_list,
                       std::map<std::string, NDArray>* array_map) {
    std::unique_ptr<mx_ndarray_list, void (*)(mx_ndarray_list*)> guard(l, mx_ndarray_list_free);
    size_t n = 0;
    detail::Check(mx_ndarray_list_size(l, &n));
    std::vector<NDArray> arrays;
    std::map<std::string, NDArray> named;
    for (size_t i = 0; i < n; ++i) {
      mx_ndarray* h = nullptr;
      const char* name = nullptr;
      detail::Check(mx_ndarray_list_get(l, i, &h, &name));
      NDArray a(h);
      if (name) named[name] = a;
      arrays.push_back(a);
    }
    if (array_list) *array_list = std::move(arrays);
    if (array_map) *array_map = std::move(named);
  }

  std::shared_ptr<mx_ndarray> handle_;
};

}  // namespace mx

#endif  // MX_CPP_NDARRAY_HPP_
