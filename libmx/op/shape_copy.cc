// Strided copies, fills and index loading (see shape_copy.h).
#include "op/shape_copy.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "op/kernel_util.h"

namespace mx {
namespace {

// Storage type of the given byte width: copying bits needs no arithmetic, so one instantiation per
// width serves all nine dtypes.
template <size_t N> struct Bits;
template <> struct Bits<1> { using type = uint8_t; };
template <> struct Bits<2> { using type = uint16_t; };
template <> struct Bits<4> { using type = uint32_t; };
template <> struct Bits<8> { using type = uint64_t; };

struct Plan {
  int ndim = 0;
  int64_t shape[Shape::kMaxDim];
  int64_t ds[Shape::kMaxDim];
  int64_t ss[Shape::kMaxDim];
};

// Drops unit dims and merges neighbours that are contiguous in both source and destination.
Plan make_plan(const int64_t* dst_stride, const int64_t* src_stride, const Shape& shape) {
  Plan p;
  for (int i = 0; i < shape.ndim(); ++i) {
    if (shape[i] == 1) continue;
    if (p.ndim > 0) {
      int k = p.ndim - 1;
      if (p.ds[k] == dst_stride[i] * shape[i] && p.ss[k] == src_stride[i] * shape[i]) {
        p.shape[k] *= shape[i];
        p.ds[k] = dst_stride[i];
        p.ss[k] = src_stride[i];
        continue;
      }
    }
    p.shape[p.ndim] = shape[i];
    p.ds[p.ndim] = dst_stride[i];
    p.ss[p.ndim] = src_stride[i];
    ++p.ndim;
  }
  if (p.ndim == 0) {  // a single element
    p.ndim = 1;
    p.shape[0] = 1;
    p.ds[0] = 1;
    p.ss[0] = 1;
  }
  return p;
}

template <typename T>
void run_plan(T* dst, const T* src, const Plan& p) {
  const int nd = p.ndim;
  const int64_t inner = p.shape[nd - 1];
  const int64_t dsi = p.ds[nd - 1], ssi = p.ss[nd - 1];
  int64_t rows = 1;
  for (int i = 0; i < nd - 1; ++i) rows *= p.shape[i];
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(inner, 1));
  parallel_range(rows, [&](int64_t rb, int64_t re) {
    // Odometer over the outer dims, started at row rb.
    int64_t idx[Shape::kMaxDim];
    int64_t r = rb, doff = 0, soff = 0;
    for (int i = nd - 2; i >= 0; --i) {
      idx[i] = r % p.shape[i];
      r /= p.shape[i];
      doff += idx[i] * p.ds[i];
      soff += idx[i] * p.ss[i];
    }
    for (int64_t row = rb; row < re; ++row) {
      T* d = dst + doff;
      const T* s = src + soff;
      if (dsi == 1 && ssi == 1) {
        std::memcpy(d, s, static_cast<size_t>(inner) * sizeof(T));
      } else if (dsi == 1) {
        for (int64_t j = 0; j < inner; ++j) d[j] = s[j * ssi];
      } else {
        for (int64_t j = 0; j < inner; ++j) d[j * dsi] = s[j * ssi];
      }
      for (int i = nd - 2; i >= 0; --i) {
        ++idx[i];
        doff += p.ds[i];
        soff += p.ss[i];
        if (idx[i] < p.shape[i]) break;
        doff -= p.ds[i] * p.shape[i];
        soff -= p.ss[i] * p.shape[i];
        idx[i] = 0;
      }
    }
  }, grain);
}

// The last two plan dims as a transpose (the source is contiguous along dim nd-2, the destination
// along dim nd-1): copied in cache-sized tiles so that both sides stay in cache. Outer dims batch.
template <typename T>
void transpose_tiles(T* dst, const T* src, const Plan& p) {
  constexpr int64_t kTile = 32;
  const int nd = p.ndim;
  const int64_t n0 = p.shape[nd - 2], n1 = p.shape[nd - 1];
  const int64_t ds0 = p.ds[nd - 2], ds1 = p.ds[nd - 1], ss0 = p.ss[nd - 2], ss1 = p.ss[nd - 1];
  const int64_t tiles0 = (n0 + kTile - 1) / kTile;
  int64_t batch = 1;
  for (int i = 0; i < nd - 2; ++i) batch *= p.shape[i];
  const int64_t work = batch * tiles0;
  parallel_range(work, [&](int64_t wb, int64_t we) {
    for (int64_t w = wb; w < we; ++w) {
      int64_t b = w / tiles0, t0 = w % tiles0;
      int64_t doff = 0, soff = 0;
      for (int i = nd - 3; i >= 0; --i) {
        int64_t k = b % p.shape[i];
        b /= p.shape[i];
        doff += k * p.ds[i];
        soff += k * p.ss[i];
      }
      T* d = dst + doff;
      const T* s = src + soff;
      const int64_t i0 = t0 * kTile, i1 = std::min(n0, i0 + kTile);
      for (int64_t j0 = 0; j0 < n1; j0 += kTile) {
        const int64_t j1 = std::min(n1, j0 + kTile);
        for (int64_t i = i0; i < i1; ++i)
          for (int64_t j = j0; j < j1; ++j) d[i * ds0 + j * ds1] = s[i * ss0 + j * ss1];
      }
    }
  }, std::max<int64_t>(1, kParallelGrain / (kTile * std::max<int64_t>(n1, 1))));
}

template <typename T>
void copy_typed(void* dst, const void* src, const Plan& p) {
  T* d = static_cast<T*>(dst);
  const T* s = static_cast<const T*>(src);
  const int nd = p.ndim;
  if (nd >= 2 && p.ss[nd - 1] != 1 && p.ss[nd - 2] == 1 && p.ds[nd - 1] == 1 && p.shape[nd - 2] >= 16 &&
      p.shape[nd - 1] >= 16) {
    transpose_tiles(d, s, p);
    return;
  }
  run_plan(d, s, p);
}

template <typename T>
void fill_typed(void* dst, const int64_t* stride, const Shape& shape, T v) {
  std::vector<int64_t> zero(static_cast<size_t>(shape.ndim() > 0 ? shape.ndim() : 1), 0);
  Plan p = make_plan(stride, zero.data(), shape);
  T* d = static_cast<T*>(dst);
  const int nd = p.ndim;
  const int64_t inner = p.shape[nd - 1], dsi = p.ds[nd - 1];
  int64_t rows = 1;
  for (int i = 0; i < nd - 1; ++i) rows *= p.shape[i];
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(inner, 1));
  parallel_range(rows, [&](int64_t rb, int64_t re) {
    for (int64_t row = rb; row < re; ++row) {
      int64_t r = row, off = 0;
      for (int i = nd - 2; i >= 0; --i) {
        off += (r % p.shape[i]) * p.ds[i];
        r /= p.shape[i];
      }
      T* q = d + off;
      for (int64_t j = 0; j < inner; ++j) q[j * dsi] = v;
    }
  }, grain);
}

}  // namespace

std::vector<int64_t> contiguous_strides(const Shape& s) {
  std::vector<int64_t> st(static_cast<size_t>(s.ndim()));
  int64_t acc = 1;
  for (int i = s.ndim() - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

void strided_copy(void* dst, const int64_t* dst_stride, const void* src, const int64_t* src_stride,
                  const Shape& shape, size_t elem_size) {
  if (shape.size() == 0) return;
  Plan p = make_plan(dst_stride, src_stride, shape);
  switch (elem_size) {
    case 1: copy_typed<Bits<1>::type>(dst, src, p); break;
    case 2: copy_typed<Bits<2>::type>(dst, src, p); break;
    case 4: copy_typed<Bits<4>::type>(dst, src, p); break;
    case 8: copy_typed<Bits<8>::type>(dst, src, p); break;
    default: MX_THROW(kInternal, "strided_copy: unsupported element size ", elem_size);
  }
}

void strided_gather(void* dst, const void* src, const int64_t* src_stride, const Shape& shape,
                    size_t elem_size) {
  std::vector<int64_t> ds = contiguous_strides(shape);
  strided_copy(dst, ds.data(), src, src_stride, shape, elem_size);
}

void fill_bytes(void* dst, int64_t n, const void* value, size_t elem_size) {
  if (n <= 0) return;
  Shape s{n};
  int64_t one = 1;
  strided_fill(dst, &one, s, value, elem_size);
}

void strided_fill(void* dst, const int64_t* dst_stride, const Shape& shape, const void* value,
                  size_t elem_size) {
  if (shape.size() == 0) return;
  switch (elem_size) {
    case 1: { uint8_t v; std::memcpy(&v, value, 1); fill_typed(dst, dst_stride, shape, v); break; }
    case 2: { uint16_t v; std::memcpy(&v, value, 2); fill_typed(dst, dst_stride, shape, v); break; }
    case 4: { uint32_t v; std::memcpy(&v, value, 4); fill_typed(dst, dst_stride, shape, v); break; }
    case 8: { uint64_t v; std::memcpy(&v, value, 8); fill_typed(dst, dst_stride, shape, v); break; }
    default: MX_THROW(kInternal, "strided_fill: unsupported element size ", elem_size);
  }
}

void scalar_to_bytes(double v, DType t, void* out) {
  // Through cast_copy so that the scalar rounds exactly as a float64 array cast would.
  Shape one{1};
  cast_copy(TBlob{&v, one, DType::kFloat64, Device::cpu()}, TBlob{out, one, t, Device::cpu()});
}

namespace {
template <typename T>
inline int64_t to_index(T v) {
  return static_cast<int64_t>(v);
}
template <typename F>
inline int64_t float_to_index(F f) {
  double d = static_cast<double>(f);
  if (!(d > -9.2e18 && d < 9.2e18)) return INT64_MIN;  // NaN, +-inf, out of int64
  return static_cast<int64_t>(d);
}
template <> inline int64_t to_index<float>(float v) { return float_to_index(v); }
template <> inline int64_t to_index<double>(double v) { return float_to_index(v); }
template <> inline int64_t to_index<half_t>(half_t v) { return float_to_index(static_cast<float>(v)); }
template <> inline int64_t to_index<bf16_t>(bf16_t v) { return float_to_index(static_cast<float>(v)); }
}  // namespace

std::vector<int64_t> load_indices(const TBlob& idx) {
  const int64_t n = idx.size();
  std::vector<int64_t> out(static_cast<size_t>(n));
  MX_DTYPE_SWITCH(idx.dtype, DT, {
    const DT* p = idx.ptr<DT>();
    int64_t* o = out.data();
    parallel_range(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = to_index<DT>(p[i]);
    });
  });
  return out;
}

int check_axis(const char* op, int64_t axis, int ndim) {
  MX_CHECK(axis >= -ndim && axis < ndim, kInvalidArgument, "operator ", op, ": axis ", axis,
           " is out of range for an input of ndim ", ndim, " (expected ", -ndim, " <= axis < ", ndim, ")");
  return static_cast<int>(axis < 0 ? axis + ndim : axis);
}

void assign_shape(const char* op, std::vector<Shape>* out, int i, const Shape& s) {
  Shape& o = (*out)[i];
  if (o.known())
    MX_CHECK(o == s, kShape, "operator ", op, ": output ", i, " has shape ", o.str(),
             " but the op produces shape ", s.str());
  o = s;
}

}  // namespace mx
