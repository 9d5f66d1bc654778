// DLPack 1.x export and import (versioned and legacy managed tensors).
#include <cstring>

#include "c_api/c_api_internal.h"
#include "mx/dlpack/dlpack.h"
#include "op/kernel_util.h"

namespace {

DLDataType to_dl(mx::DType t) {
  DLDataType d;
  d.lanes = 1;
  switch (t) {
    case mx::DType::kFloat32: d.code = kDLFloat; d.bits = 32; break;
    case mx::DType::kFloat64: d.code = kDLFloat; d.bits = 64; break;
    case mx::DType::kFloat16: d.code = kDLFloat; d.bits = 16; break;
    case mx::DType::kBFloat16: d.code = kDLBfloat; d.bits = 16; break;
    case mx::DType::kUInt8: d.code = kDLUInt; d.bits = 8; break;
    case mx::DType::kInt8: d.code = kDLInt; d.bits = 8; break;
    case mx::DType::kInt32: d.code = kDLInt; d.bits = 32; break;
    case mx::DType::kInt64: d.code = kDLInt; d.bits = 64; break;
    case mx::DType::kBool: d.code = kDLBool; d.bits = 8; break;
    default: MX_THROW(kDType, "dtype cannot be exported to DLPack");
  }
  return d;
}

mx::DType from_dl(DLDataType d) {
  MX_CHECK(d.lanes == 1, kDType, "DLPack tensors with ", d.lanes, " lanes are not supported");
  if (d.code == kDLFloat && d.bits == 32) return mx::DType::kFloat32;
  if (d.code == kDLFloat && d.bits == 64) return mx::DType::kFloat64;
  if (d.code == kDLFloat && d.bits == 16) return mx::DType::kFloat16;
  if (d.code == kDLBfloat && d.bits == 16) return mx::DType::kBFloat16;
  if (d.code == kDLUInt && d.bits == 8) return mx::DType::kUInt8;
  if (d.code == kDLInt && d.bits == 8) return mx::DType::kInt8;
  if (d.code == kDLInt && d.bits == 32) return mx::DType::kInt32;
  if (d.code == kDLInt && d.bits == 64) return mx::DType::kInt64;
  if (d.code == kDLBool && d.bits == 8) return mx::DType::kBool;
  MX_THROW(kDType, "DLPack dtype (code ", int(d.code), ", bits ", int(d.bits), ") has no MX dtype");
}

// Owns what an exported tensor points at.
template <typename Managed>
struct Export {
  Managed managed;
  mx::NDArray arr;
  int64_t shape[mx::Shape::kMaxDim];
};

template <typename Managed>
void fill_tensor(Export<Managed>* e) {
  const mx::NDArray& a = e->arr;
  DLTensor& t = e->managed.dl_tensor;
  t.data = a.raw_data();
  t.byte_offset = 0;
  t.device.device_type = a.device().type == mx::DeviceType::kGPU ? kDLCUDA : kDLCPU;
  t.device.device_id = a.device().type == mx::DeviceType::kGPU ? a.device().id : 0;
  t.ndim = a.shape().ndim();
  t.dtype = to_dl(a.dtype());
  for (int i = 0; i < t.ndim; ++i) e->shape[i] = a.shape()[i];
  t.shape = e->shape;
  t.strides = nullptr;
}

struct ImportCtx {
  void* managed;
  bool versioned;
};

void import_deleter(void* p) {
  ImportCtx* c = static_cast<ImportCtx*>(p);
  if (c->versioned) {
    auto* m = static_cast<DLManagedTensorVersioned*>(c->managed);
    if (m->deleter) m->deleter(m);
  } else {
    auto* m = static_cast<DLManagedTensor*>(c->managed);
    if (m->deleter) m->deleter(m);
  }
  delete c;
}

// Validates t and wraps it; the deleter is attached only when nothing can fail any more.
mx_ndarray* import_tensor(const DLTensor& t, void* managed, bool versioned, bool read_only) {
  MX_CHECK(t.device.device_type == kDLCPU || t.device.device_type == kDLCUDAHost, kUnsupported,
           "DLPack tensors on device type ", int(t.device.device_type), " are not supported in this build");
  MX_CHECK(t.ndim >= 0 && t.ndim <= mx::Shape::kMaxDim, kShape, "DLPack tensor ndim ", t.ndim, " is out of range");
  MX_CHECK(t.ndim == 0 || t.shape != nullptr, kInvalidArgument, "DLPack tensor has a NULL shape");
  mx::DType dt = from_dl(t.dtype);
  mx::Shape s(t.shape, t.ndim);
  for (int i = 0; i < t.ndim; ++i) MX_CHECK(s[i] >= 0, kShape, "DLPack tensor has negative dim in ", s.str());
  if (t.strides) {
    int64_t expect = 1;
    for (int i = t.ndim - 1; i >= 0; --i) {
      MX_CHECK(s[i] == 1 || t.strides[i] == expect, kInvalidArgument,
               "DLPack tensor is not C-contiguous (strides are not supported; make it contiguous first)");
      expect *= s[i];
    }
  }
  char* data = static_cast<char*>(t.data) + t.byte_offset;
  size_t bytes = static_cast<size_t>(s.size()) * mx::dtype_size(dt);
  MX_CHECK(data != nullptr || bytes == 0, kInvalidArgument, "DLPack tensor has NULL data");
  if (read_only) {
    // MX arrays are writable: a read-only producer gets a private copy and is released now.
    mx::NDArray copy(s, mx::Device::cpu(), dt);
    if (bytes) std::memcpy(copy.raw_data(), data, bytes);
    mx_ndarray* h = mx::capi::new_handle(std::move(copy));
    ImportCtx c{managed, versioned};
    import_deleter(new ImportCtx(c));
    return h;
  }
  auto st = mx::Storage::wrap(data, bytes, mx::Device::cpu(), nullptr, nullptr);
  auto* ctx = new ImportCtx{managed, versioned};
  mx_ndarray* h;
  try {
    h = mx::capi::new_handle(mx::NDArray(st, s, dt, 0));
  } catch (...) {
    delete ctx;
    throw;
  }
  st->set_deleter(import_deleter, ctx);
  return h;
}

}  // namespace

extern "C" {

MX_API int mx_ndarray_to_dlpack(mx_ndarray* arr, DLManagedTensorVersioned** out) {
  MX_API_BEGIN();
  const mx::NDArray& a = mx::capi::get(arr);
  mx::capi::check_out(out, "out");
  a.wait_to_read();
  auto* e = new Export<DLManagedTensorVersioned>();
  e->arr = a;
  e->managed.version.major = DLPACK_MAJOR_VERSION;
  e->managed.version.minor = DLPACK_MINOR_VERSION;
  e->managed.flags = 0;
  e->managed.manager_ctx = e;
  e->managed.deleter = [](DLManagedTensorVersioned* self) {
    delete static_cast<Export<DLManagedTensorVersioned>*>(self->manager_ctx);
  };
  try {
    fill_tensor(e);
  } catch (...) {
    delete e;
    throw;
  }
  *out = &e->managed;
  MX_API_END();
}

MX_API int mx_ndarray_to_dlpack_legacy(mx_ndarray* arr, DLManagedTensor** out) {
  MX_API_BEGIN();
  const mx::NDArray& a = mx::capi::get(arr);
  mx::capi::check_out(out, "out");
  a.wait_to_read();
  auto* e = new Export<DLManagedTensor>();
  e->arr = a;
  e->managed.manager_ctx = e;
  e->managed.deleter = [](DLManagedTensor* self) { delete static_cast<Export<DLManagedTensor>*>(self->manager_ctx); };
  try {
    fill_tensor(e);
  } catch (...) {
    delete e;
    throw;
  }
  *out = &e->managed;
  MX_API_END();
}

MX_API int mx_ndarray_from_dlpack(DLManagedTensorVersioned* tensor, mx_ndarray** out) {
  MX_API_BEGIN();
  MX_CHECK(tensor != nullptr, kInvalidArgument, "DLPack tensor is NULL");
  mx::capi::check_out(out, "out");
  MX_CHECK(tensor->version.major == DLPACK_MAJOR_VERSION, kUnsupported, "DLPack major version ",
           tensor->version.major, " is not supported (MX reads version ", DLPACK_MAJOR_VERSION, ".x)");
  bool ro = (tensor->flags & DLPACK_FLAG_BITMASK_READ_ONLY) != 0;
  *out = import_tensor(tensor->dl_tensor, tensor, true, ro);
  MX_API_END();
}

MX_API int mx_ndarray_from_dlpack_legacy(DLManagedTensor* tensor, mx_ndarray** out) {
  MX_API_BEGIN();
  MX_CHECK(tensor != nullptr, kInvalidArgument, "DLPack tensor is NULL");
  mx::capi::check_out(out, "out");
  *out = import_tensor(tensor->dl_tensor, tensor, false, false);
  MX_API_END();
}

}  // extern "C"
