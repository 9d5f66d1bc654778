// Reductions: sum, mean, prod, max, min, nansum, nanprod, norm, argmax, argmin.
//
// Axis rules are MXNet 1.x's: axis None or () reduces everything (to shape (1,) unless keepdims),
// exclude reduces the axes NOT listed, negative axes count from the end, duplicates are an error.
//
// One engine serves every value reduction. The input shape is compacted (size-1 dims dropped,
// neighbouring dims of the same kind merged) so the work is either
//   A. the innermost group is reduced: each output reduces contiguous runs (pairwise, with 8
//      independent accumulators so the loop vectorises), or
//   B. the innermost group is kept: each reduced position adds a contiguous row into a tile of
//      per-column accumulators (the column loop vectorises).
// Outputs are split across threads; when there are fewer outputs than threads the reduction itself
// is split and the partial results merged.
//
// Float sums accumulate in double (pairwise over blocks of 1024); integer sums and products in
// 64-bit wrapping arithmetic, so the result is a cast of the exact one, as numpy's astype.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

constexpr int kMaxDim = Shape::kMaxDim;
const std::vector<DType> kNumericTypes = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16,
                                          DType::kUInt8,   DType::kInt8,    DType::kInt32,   DType::kInt64};

// ------------------------------------------------------------------ axes and shapes
// Marks the reduced input axes; returns the output shape. `axis_given` false means None.
Shape reduce_axes(const char* op, const Shape& in, bool axis_given, const Shape& axis, bool keepdims, bool exclude,
                  bool* red) {
  const int nd = in.ndim();
  if (!axis_given || axis.ndim() == 0) {
    for (int i = 0; i < nd; ++i) red[i] = true;
    return keepdims ? Shape::filled(nd, 1) : Shape{1};
  }
  bool listed[kMaxDim] = {};
  for (int i = 0; i < axis.ndim(); ++i) {
    int64_t a = axis[i];
    MX_CHECK(a != kNoneDim, kInvalidArgument, op, ": an axis entry is None (axis=None alone means all axes)");
    const int64_t orig = a;
    if (a < 0) a += nd;
    MX_CHECK(a >= 0 && a < nd, kInvalidArgument, op, ": reduction axis ", orig, " is out of range for input shape ",
             in.str());
    MX_CHECK(!listed[a], kInvalidArgument, op, ": reduction axes ", axis.str(), " have duplicates");
    listed[a] = true;
  }
  Shape out;
  for (int i = 0; i < nd; ++i) {
    red[i] = exclude ? !listed[i] : listed[i];
    if (keepdims) out.push_back(red[i] ? 1 : in[i]);
    else if (!red[i]) out.push_back(in[i]);
  }
  if (!keepdims && out.ndim() == 0) out.push_back(1);
  return out;
}

// The reduced-axes mask of a call from its params (norm has no `exclude`).
Shape reduce_axes_from(const Params& p, const Shape& in, bool* red) {
  const bool given = !p.is_none("axis");
  const bool exclude = p.has("exclude") && p.get_bool("exclude");
  return reduce_axes(p.op().name().c_str(), in, given, given ? p.get_shape("axis") : Shape(), p.get_bool("keepdims"),
                     exclude, red);
}

void reduce_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!shape_known((*in)[0])) return;
  bool red[kMaxDim];
  (*out)[0] = reduce_axes_from(p, (*in)[0], red);
}

// max/min have no identity: MXNet rejects empty inputs.
void reduce_shape_nonempty(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!shape_known((*in)[0])) return;
  MX_CHECK((*in)[0].size() > 0, kShape, p.op().name(), ": cannot reduce an empty array of shape ", (*in)[0].str());
  reduce_shape(p, in, out);
}

// ------------------------------------------------------------------ compute types and sources
// Every dtype computes in one of three types: float (float32, float16, bfloat16), double (float64)
// or int64 (the integer types). float32, float64 and int64 are read in place; the others are
// converted a span at a time (at most kBlock elements) into a thread-local buffer.
constexpr int64_t kBlock = 1024;  // leaf of the pairwise reduction; also the conversion span
constexpr int64_t kTile = 1024;   // columns per accumulator tile (case B): long contiguous row reads
constexpr int64_t kRowBlock = 128;  // rows summed into a fresh tile before merging (case B)

template <typename C> constexpr DType native_dtype();
template <> constexpr DType native_dtype<float>() { return DType::kFloat32; }
template <> constexpr DType native_dtype<double>() { return DType::kFloat64; }
template <> constexpr DType native_dtype<int64_t>() { return DType::kInt64; }

template <typename T, typename C>
void convert_span(const void* base, int64_t off, int64_t n, C* dst) {
  const T* s = static_cast<const T*>(base) + off;
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<C>(static_cast<typename AccType<T>::type>(s[i]));
}

template <typename C>
struct Source {
  const void* base = nullptr;
  void (*convert)(const void*, int64_t, int64_t, C*) = nullptr;  // null: the data is C already
  // The n elements at offset off as C: in place, or converted into buf (capacity >= n).
  const C* span(int64_t off, int64_t n, C* buf) const {
    if (!convert) return static_cast<const C*>(base) + off;
    convert(base, off, n, buf);
    return buf;
  }
};

template <typename C>
Source<C> source_of(const TBlob& x) {
  Source<C> s;
  s.base = x.data;
  if (x.dtype == native_dtype<C>()) return s;
  if constexpr (std::is_same<C, float>::value) {
    if (x.dtype == DType::kFloat16) s.convert = convert_span<half_t, float>;
    else if (x.dtype == DType::kBFloat16) s.convert = convert_span<bf16_t, float>;
  } else if constexpr (std::is_same<C, int64_t>::value) {
    if (x.dtype == DType::kUInt8) s.convert = convert_span<uint8_t, int64_t>;
    else if (x.dtype == DType::kInt8) s.convert = convert_span<int8_t, int64_t>;
    else if (x.dtype == DType::kInt32) s.convert = convert_span<int32_t, int64_t>;
  }
  MX_CHECK(s.convert, kInternal, "no conversion from ", dtype_name(x.dtype), " to ", dtype_name(native_dtype<C>()));
  return s;
}

// Calls f.template operator()<C>() with the compute type of dtype t.
template <typename F>
void with_compute_type(const char* op, DType t, F&& f) {
  switch (t) {
    case DType::kFloat32:
    case DType::kFloat16:
    case DType::kBFloat16: f(float()); break;
    case DType::kFloat64: f(double()); break;
    case DType::kUInt8:
    case DType::kInt8:
    case DType::kInt32:
    case DType::kInt64: f(int64_t()); break;
    default: MX_THROW(kDType, op, ": ", dtype_name(t), " input is not supported");
  }
}

// Runs fill(O*) on out directly when its dtype is O, else on a temporary that is then cast into out.
template <typename O, typename F>
void write_output(const TBlob& out, F&& fill) {
  if (out.dtype == native_dtype<O>()) {
    fill(out.ptr<O>());
    return;
  }
  std::vector<O> tmp(static_cast<size_t>(out.size()));
  fill(tmp.data());
  cast_copy(TBlob{tmp.data(), out.shape, native_dtype<O>(), out.dev}, out);
}

// ------------------------------------------------------------------ reducers
// Each: Acc, init(), add(acc, x), merge(acc, other), fin(acc, count) -> the value stored.
// Sums of float accumulate in double; integer sums and products wrap in 64 bits (uint64 arithmetic
// is defined to wrap; the bits equal two's-complement int64 results).
template <typename C> using Wide = std::conditional_t<std::is_integral<C>::value, uint64_t, double>;
template <typename V> inline bool is_nan(V v) { return v != v; }  // false for integers

template <typename C> struct Sum {
  using Acc = Wide<C>;
  static Acc init() { return Acc(0); }
  static void add(Acc& a, C v) { a += static_cast<Acc>(v); }
  static void merge(Acc& a, const Acc& b) { a += b; }
  static C fin(const Acc& a, int64_t) { return static_cast<C>(a); }
};
template <typename C> struct Mean : Sum<C> {
  using Acc = Wide<C>;
  static C fin(const Acc& a, int64_t n) {
    if constexpr (std::is_integral<C>::value) return static_cast<int64_t>(a) / n;  // n > 0 checked by caller
    else return static_cast<C>(a / static_cast<double>(n));
  }
};
template <typename C> struct Prod {
  using Acc = Wide<C>;
  static Acc init() { return Acc(1); }
  static void add(Acc& a, C v) { a *= static_cast<Acc>(v); }
  static void merge(Acc& a, const Acc& b) { a *= b; }
  static C fin(const Acc& a, int64_t) { return static_cast<C>(a); }
};
template <typename C> struct NanSum : Sum<C> {
  using Acc = Wide<C>;
  static void add(Acc& a, C v) { a += is_nan(v) ? Acc(0) : static_cast<Acc>(v); }
};
template <typename C> struct NanProd : Prod<C> {
  using Acc = Wide<C>;
  static void add(Acc& a, C v) { a *= is_nan(v) ? Acc(1) : static_cast<Acc>(v); }
};
// max/min propagate NaN (numpy's maximum.reduce); written as selects so the loops vectorise.
template <typename C> struct Max {
  using Acc = C;
  static Acc init() {
    if constexpr (std::is_integral<C>::value) return std::numeric_limits<C>::lowest();
    else return -std::numeric_limits<C>::infinity();
  }
  static void merge(Acc& a, const Acc& b) {
    const bool take = (b > a) | is_nan(b);  // no short-circuit: a branch-free select vectorises
    a = take ? b : a;
  }
  static void add(Acc& a, C v) { merge(a, v); }
  static C fin(const Acc& a, int64_t) { return a; }
};
template <typename C> struct Min {
  using Acc = C;
  static Acc init() {
    if constexpr (std::is_integral<C>::value) return std::numeric_limits<C>::max();
    else return std::numeric_limits<C>::infinity();
  }
  static void merge(Acc& a, const Acc& b) {
    const bool take = (b < a) | is_nan(b);
    a = take ? b : a;
  }
  static void add(Acc& a, C v) { merge(a, v); }
  static C fin(const Acc& a, int64_t) { return a; }
};
// Norms produce double, cast to the output dtype afterwards.
template <typename C> struct Norm1 : Sum<C> {
  using Acc = Wide<C>;
  static void add(Acc& a, C v) { a += static_cast<Acc>(v < 0 ? -v : v); }
  static double fin(const Acc& a, int64_t) {
    if constexpr (std::is_integral<C>::value) return static_cast<double>(static_cast<int64_t>(a));
    else return a;
  }
};
// L2: float and integer inputs square into double with no risk of overflow; float64 keeps a scaled
// sum of squares (scale^2 * ssq, as BLAS nrm2) so huge or tiny values neither overflow nor underflow.
template <typename C> struct Norm2 {
  using Acc = double;
  static Acc init() { return 0.0; }
  static void add(Acc& a, C v) {
    const double x = static_cast<double>(v);
    a += x * x;
  }
  static void merge(Acc& a, const Acc& b) { a += b; }
  static double fin(const Acc& a, int64_t) { return std::sqrt(a); }
};
struct ScaledSsq {
  double scale = 0.0, ssq = 0.0;
};
template <> struct Norm2<double> {
  using Acc = ScaledSsq;
  // (x / scale)^2 without inf / inf when both are infinite.
  static double ratio2(double x, double scale) {
    const double r = x == scale ? 1.0 : x / scale;
    return r * r;
  }
  static Acc init() { return ScaledSsq(); }
  static void add(Acc& a, double v) {
    const double x = std::fabs(v);
    if (x == 0.0) return;
    if (a.scale < x) {
      a.ssq = 1.0 + a.ssq * ratio2(a.scale, x);
      a.scale = x;
    } else {
      a.ssq += ratio2(x, a.scale);  // a NaN x lands here and poisons ssq
    }
  }
  static void merge(Acc& a, Acc b) {
    if (a.scale < b.scale) std::swap(a, b);  // a holds the larger scale
    if (b.scale != 0.0) a.ssq += b.ssq * ratio2(b.scale, a.scale);
    else if (is_nan(b.ssq)) a.ssq = b.ssq;
  }
  static double fin(const Acc& a, int64_t) { return a.scale == 0.0 ? a.ssq : a.scale * std::sqrt(a.ssq); }
};

// ------------------------------------------------------------------ the engine
struct Plan {
  int n = 0;  // compacted groups
  int64_t dim[kMaxDim], stride[kMaxDim];
  bool red[kMaxDim];
  int64_t out_size = 1, red_size = 1;
};

Plan make_plan(const Shape& in, const bool* red) {
  Plan p;
  for (int i = 0; i < in.ndim(); ++i) {
    if (in[i] == 1) continue;
    if (p.n > 0 && p.red[p.n - 1] == red[i]) {
      p.dim[p.n - 1] *= in[i];
    } else {
      p.dim[p.n] = in[i];
      p.red[p.n] = red[i];
      ++p.n;
    }
  }
  int64_t s = 1;
  for (int i = p.n - 1; i >= 0; --i) {
    p.stride[i] = s;
    s *= p.dim[i];
    (p.red[i] ? p.red_size : p.out_size) *= p.dim[i];
  }
  return p;
}

// Row-major walk over a subset of the groups, tracking the input offset.
struct Walker {
  int n = 0;
  int64_t dim[kMaxDim], stride[kMaxDim], idx[kMaxDim];
  int64_t off = 0;
  void add(int64_t d, int64_t s) {
    dim[n] = d;
    stride[n] = s;
    ++n;
  }
  void seek(int64_t lin) {
    off = 0;
    for (int i = n - 1; i >= 0; --i) {
      idx[i] = lin % dim[i];
      lin /= dim[i];
      off += idx[i] * stride[i];
    }
  }
  void next() {
    for (int i = n - 1; i >= 0; --i) {
      off += stride[i];
      if (++idx[i] < dim[i]) return;
      off -= dim[i] * stride[i];
      idx[i] = 0;
    }
  }
};

// Max (kMax) or min of x[0, n) with NaN propagation for float/double, written with 16-byte vectors
// (compilers will not if-convert the NaN-aware select on their own).
template <typename C, bool kMax>
C minmax_block(const C* x, int64_t n) {
  typedef C V __attribute__((vector_size(16)));
  constexpr int L = 16 / sizeof(C);
  const C init = kMax ? -std::numeric_limits<C>::infinity() : std::numeric_limits<C>::infinity();
  V m[4];
  decltype(m[0] != m[0]) nan[4];
  for (int k = 0; k < 4; ++k) {
    m[k] = V{} + init;
    nan[k] = nan[k] ^ nan[k];
  }
  int64_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    for (int k = 0; k < 4; ++k) {
      V v;
      std::memcpy(&v, x + i + k * L, sizeof(V));
      if constexpr (kMax) m[k] = v > m[k] ? v : m[k];
      else m[k] = v < m[k] ? v : m[k];
      nan[k] |= (v != v);
    }
  }
  bool any = false;
  C r = init;
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < L; ++j) {
      any |= nan[k][j] != 0;
      const C a = m[k][j];
      r = (kMax ? a > r : a < r) ? a : r;
    }
  for (; i < n; ++i) {
    const C v = x[i];
    any |= v != v;
    r = (kMax ? v > r : v < r) ? v : r;
  }
  return any ? std::numeric_limits<C>::quiet_NaN() : r;
}

template <typename R> struct MinMaxOf { static constexpr int kind = 0; };
template <typename C> struct MinMaxOf<Max<C>> { static constexpr int kind = std::is_floating_point<C>::value ? 1 : 0; };
template <typename C> struct MinMaxOf<Min<C>> { static constexpr int kind = std::is_floating_point<C>::value ? -1 : 0; };

// Reduces x[0, n), n <= kBlock, with 8 interleaved accumulators (the loop vectorises).
template <typename R, typename C>
typename R::Acc reduce_block(const C* x, int64_t n) {
  if constexpr (MinMaxOf<R>::kind != 0) return minmax_block<C, (MinMaxOf<R>::kind > 0)>(x, n);
  using A = typename R::Acc;
  A a[8];
  for (auto& v : a) v = R::init();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) R::add(a[k], x[i + k]);
  for (; i < n; ++i) R::add(a[i & 7], x[i]);
  for (int step = 1; step < 8; step *= 2)  // pairwise: (0,1) (2,3) ... then (0,2) (4,6), then (0,4)
    for (int k = 0; k < 8; k += 2 * step) R::merge(a[k], a[k + step]);
  return a[0];
}

template <typename R, typename C, typename O>
class Reducer {
 public:
  using A = typename R::Acc;
  Reducer(const Source<C>& src, O* y, const Plan& p) : src_(src), y_(y), p_(p), n_(p.red_size), nt_(num_threads()) {}

  void run() {
    if (p_.red_size == 1) {  // nothing to combine: one element per output
      parallel_range(p_.out_size, [&](int64_t b, int64_t e) {
        C buf[kBlock];
        for (int64_t i0 = b; i0 < e; i0 += kBlock) {
          const int64_t m = std::min(kBlock, e - i0);
          const C* x = src_.span(i0, m, buf);
          for (int64_t i = 0; i < m; ++i) {
            A a = R::init();
            R::add(a, x[i]);
            y_[i0 + i] = static_cast<O>(R::fin(a, 1));
          }
        }
      });
    } else if (p_.red[p_.n - 1]) {
      run_inner_reduced();
    } else {
      run_inner_kept();
    }
  }

 private:
  // Pairwise reduction of the contiguous input [off, off + n).
  A reduce_run(int64_t off, int64_t n, C* buf) const {
    if (n > kBlock) {
      const int64_t h = (n / 2) & ~int64_t(7);
      A a = reduce_run(off, h, buf);
      R::merge(a, reduce_run(off + h, n - h, buf));
      return a;
    }
    return reduce_block<R>(src_.span(off, n, buf), n);
  }

  // Case A: contiguous runs of L elements; C combinations of the outer reduced groups.
  void run_inner_reduced() {
    const int64_t L = p_.dim[p_.n - 1];
    Walker kw, rw;
    for (int i = 0; i < p_.n - 1; ++i) (p_.red[i] ? rw : kw).add(p_.dim[i], p_.stride[i]);
    // Reduces the flattened (combination, run) positions [b, e) of the output at offset base.
    auto span = [&](int64_t base, int64_t b, int64_t e) {
      C buf[kBlock];
      Walker w = rw;
      A acc = R::init();
      int64_t l = b % L;
      w.seek(b / L);
      while (b < e) {
        const int64_t len = std::min(L - l, e - b);
        R::merge(acc, reduce_run(base + w.off + l, len, buf));
        b += len;
        l = 0;
        w.next();
      }
      return acc;
    };
    const int64_t total = p_.out_size * n_;
    if (p_.out_size >= nt_ || total < kParallelGrain) {
      parallel_range(p_.out_size, [&](int64_t b, int64_t e) {
        Walker k = kw;
        k.seek(b);
        for (int64_t o = b; o < e; ++o, k.next()) y_[o] = static_cast<O>(R::fin(span(k.off, 0, n_), n_));
      }, std::max<int64_t>(1, kParallelGrain / n_));
      return;
    }
    // Few outputs, long reductions: split each reduction across the threads.
    std::vector<A> part(static_cast<size_t>(nt_));
    Walker k = kw;
    k.seek(0);
    for (int64_t o = 0; o < p_.out_size; ++o, k.next()) {
      const int64_t base = k.off;
      parallel_range(nt_, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) part[t] = span(base, n_ * t / nt_, n_ * (t + 1) / nt_);
      }, 1);
      A acc = part[0];
      for (int t = 1; t < nt_; ++t) R::merge(acc, part[t]);
      y_[o] = static_cast<O>(R::fin(acc, n_));
    }
  }

  // Adds rows c in [cb, ce) (reduced positions) of width w at kept offset base into acc[0, w).
  void add_rows(const Walker& rw, int64_t base, int64_t cb, int64_t ce, int64_t w, A* acc) const {
    Walker r = rw;
    r.seek(cb);
    A blk[kTile];
    C buf[kTile];
    for (int64_t c = cb; c < ce;) {
      const int64_t cend = std::min(ce, c + kRowBlock);
      for (int64_t j = 0; j < w; ++j) blk[j] = R::init();
      for (; c < cend; ++c, r.next()) {
        const C* row = src_.span(base + r.off, w, buf);
        for (int64_t j = 0; j < w; ++j) R::add(blk[j], row[j]);
      }
      for (int64_t j = 0; j < w; ++j) R::merge(acc[j], blk[j]);
    }
  }

  // Case B: output rows of I contiguous columns; each reduced position adds one input row.
  void run_inner_kept() {
    const int64_t I = p_.dim[p_.n - 1];
    Walker kw, rw;
    for (int i = 0; i < p_.n - 1; ++i) (p_.red[i] ? rw : kw).add(p_.dim[i], p_.stride[i]);
    const int64_t tiles = (I + kTile - 1) / kTile;
    const int64_t items = (p_.out_size / I) * tiles;
    const int64_t total = p_.out_size * n_;
    auto geometry = [&](int64_t it, Walker& k, int64_t* base, int64_t* out0, int64_t* w) {
      const int64_t ok = it / tiles, j0 = (it % tiles) * kTile;
      k.seek(ok);
      *base = k.off + j0;
      *out0 = ok * I + j0;
      *w = std::min(kTile, I - j0);
    };
    if (items >= nt_ || total < kParallelGrain) {
      parallel_range(items, [&](int64_t b, int64_t e) {
        Walker k = kw;
        A acc[kTile];
        for (int64_t it = b; it < e; ++it) {
          int64_t base, out0, w;
          geometry(it, k, &base, &out0, &w);
          for (int64_t j = 0; j < w; ++j) acc[j] = R::init();
          add_rows(rw, base, 0, n_, w, acc);
          for (int64_t j = 0; j < w; ++j) y_[out0 + j] = static_cast<O>(R::fin(acc[j], n_));
        }
      }, std::max<int64_t>(1, kParallelGrain / (n_ * std::min(kTile, I))));
      return;
    }
    // Few output tiles, many rows: each thread takes a share of the rows into its own partials.
    std::vector<A> part(static_cast<size_t>(nt_) * p_.out_size, R::init());
    parallel_range(nt_, [&](int64_t b, int64_t e) {
      Walker k = kw;
      for (int64_t t = b; t < e; ++t) {
        A* mine = part.data() + t * p_.out_size;
        for (int64_t it = 0; it < items; ++it) {
          int64_t base, out0, w;
          geometry(it, k, &base, &out0, &w);
          add_rows(rw, base, n_ * t / nt_, n_ * (t + 1) / nt_, w, mine + out0);
        }
      }
    }, 1);
    for (int64_t o = 0; o < p_.out_size; ++o) {
      A acc = part[o];
      for (int t = 1; t < nt_; ++t) R::merge(acc, part[t * p_.out_size + o]);
      y_[o] = static_cast<O>(R::fin(acc, n_));
    }
  }

  const Source<C> src_;
  O* y_;
  const Plan& p_;
  const int64_t n_;
  const int nt_;
};

// Reduces in (marked axes) into y (out_size elements).
template <typename R, typename C, typename O>
void reduce_into(const TBlob& in, const bool* red, O* y, int64_t out_size) {
  if (out_size == 0) return;
  if (in.size() == 0) {  // every output reduces nothing: the identity
    const O v = static_cast<O>(R::fin(R::init(), 0));
    for (int64_t i = 0; i < out_size; ++i) y[i] = v;
    return;
  }
  const Plan plan = make_plan(in.shape, red);
  Reducer<R, C, O>(source_of<C>(in), y, plan).run();
}

template <template <typename> class R>
void reduce_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  bool red[kMaxDim];
  reduce_axes_from(p, in[0].shape, red);
  with_compute_type(p.op().name().c_str(), in[0].dtype, [&](auto c) {
    using C = decltype(c);
    write_output<C>(out[0], [&](C* y) { reduce_into<R<C>, C, C>(in[0], red, y, out[0].size()); });
  });
}

// Integer mean divides by the count, so an empty reduction has no answer.
void mean_compute(const OpContext& ctx, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  if (dtype_is_int(in[0].dtype) && out[0].size() > 0) {
    MX_CHECK(in[0].size() > 0, kInvalidArgument, "mean: the reduced axes of integer input of shape ",
             in[0].shape.str(), " are empty (integer mean of zero elements is undefined)");
  }
  reduce_compute<Mean>(ctx, p, in, out);
}

// ------------------------------------------------------------------ norm
void check_ord(const Params& p) {
  const int64_t ord = p.get_int("ord");
  MX_CHECK(ord == 1 || ord == 2, kUnsupported, "norm: ord=", ord, " is not supported (only ord=1 and ord=2)");
}

void norm_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  check_ord(p);
  reduce_shape(p, in, out);
}

void norm_type(const Params& p, std::vector<DType>* in, std::vector<DType>* out) {
  if (!p.is_none("out_dtype")) {
    (*out)[0] = parse_dtype(p.get_string("out_dtype"));
    return;
  }
  if ((*in)[0] != kUnknownDType) (*out)[0] = (*in)[0];
  else if ((*out)[0] != kUnknownDType) (*in)[0] = (*out)[0];
}

void norm_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  check_ord(p);
  bool red[kMaxDim];
  reduce_axes_from(p, in[0].shape, red);
  const bool l1 = p.get_int("ord") == 1;
  with_compute_type("norm", in[0].dtype, [&](auto c) {
    using C = decltype(c);
    write_output<double>(out[0], [&](double* y) {
      if (l1) reduce_into<Norm1<C>, C, double>(in[0], red, y, out[0].size());
      else reduce_into<Norm2<C>, C, double>(in[0], red, y, out[0].size());
    });
  });
}

// ------------------------------------------------------------------ argmax / argmin
// The largest index a dtype holds exactly (indices are returned in the input dtype, as MXNet does).
int64_t max_exact_index(DType t) {
  switch (t) {
    case DType::kFloat16: return 2048;
    case DType::kBFloat16: return 256;
    case DType::kFloat32: return int64_t(1) << 24;
    case DType::kFloat64: return int64_t(1) << 53;
    case DType::kUInt8: return 255;
    case DType::kInt8: return 127;
    case DType::kInt32: return INT32_MAX;
    default: return INT64_MAX;
  }
}

void search_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& s = (*in)[0];
  if (!shape_known(s)) return;
  const std::string& op = p.op().name();
  const bool keep = p.get_bool("keepdims");
  if (p.is_none("axis")) {
    MX_CHECK(s.size() > 0, kShape, op, ": cannot search an empty array of shape ", s.str());
    (*out)[0] = keep ? Shape::filled(s.ndim(), 1) : Shape{1};
    return;
  }
  MX_CHECK(s.ndim() > 0, kShape, op, ": axis=", p.get_int("axis"), " given for a 0-d input");
  const int64_t a0 = p.get_int("axis");
  MX_CHECK(a0 >= -s.ndim() && a0 < s.ndim(), kInvalidArgument, op, ": axis ", a0, " is out of range for input shape ",
           s.str());
  const int a = static_cast<int>(a0 < 0 ? a0 + s.ndim() : a0);
  MX_CHECK(s[a] > 0, kShape, op, ": cannot search along axis ", a0, " of size 0 (input shape ", s.str(), ")");
  if (s.ndim() == 1 && !keep) {
    (*out)[0] = Shape{1};
    return;
  }
  Shape o = s;
  if (keep) o[a] = 1;
  else o.erase(a);
  (*out)[0] = o;
}

// v beats best: larger (smaller) or the first NaN; ties keep the earlier index.
template <bool kMax, typename C>
inline bool beats(C v, C best) {
  if constexpr (kMax) return v > best || (is_nan(v) && !is_nan(best));
  else return v < best || (is_nan(v) && !is_nan(best));
}

// First index of the best value in x[0, n): a vectorised max/min pass, then a scan for its first
// occurrence (or for the first NaN, which wins).
template <typename C, bool kMax>
int64_t search_block(const C* x, int64_t n) {
  using R = std::conditional_t<kMax, Max<C>, Min<C>>;
  const C best = reduce_block<R>(x, n);
  if (is_nan(best)) {
    for (int64_t i = 0; i < n; ++i)
      if (is_nan(x[i])) return i;
  }
  for (int64_t i = 0; i < n; ++i)
    if (x[i] == best) return i;
  return 0;  // unreachable: best is one of x
}

// Index of the best value along the middle axis of (outer, L, inner), into y (int64).
template <typename C, bool kMax>
void search_run(const Source<C>& src, int64_t* y, int64_t outer, int64_t L, int64_t inner) {
  if (inner == 1) {
    parallel_range(outer, [&](int64_t b, int64_t e) {
      C buf[kBlock];
      for (int64_t o = b; o < e; ++o) {
        C best = C(0);
        int64_t bi = -1;
        for (int64_t l0 = 0; l0 < L; l0 += kBlock) {
          const int64_t m = std::min(kBlock, L - l0);
          const C* x = src.span(o * L + l0, m, buf);
          const int64_t i = search_block<C, kMax>(x, m);
          if (bi < 0 || beats<kMax>(x[i], best)) {
            best = x[i];
            bi = l0 + i;
          }
        }
        y[o] = bi;
      }
    }, std::max<int64_t>(1, kParallelGrain / L));
    return;
  }
  const int64_t tiles = (inner + kTile - 1) / kTile;
  parallel_range(outer * tiles, [&](int64_t b, int64_t e) {
    C best[kTile], buf[kTile];
    int64_t bi[kTile];
    for (int64_t it = b; it < e; ++it) {
      const int64_t o = it / tiles, j0 = (it % tiles) * kTile, w = std::min(kTile, inner - j0);
      const int64_t base = o * L * inner + j0;
      const C* first = src.span(base, w, buf);
      for (int64_t j = 0; j < w; ++j) {
        best[j] = first[j];
        bi[j] = 0;
      }
      for (int64_t l = 1; l < L; ++l) {
        const C* row = src.span(base + l * inner, w, buf);
        for (int64_t j = 0; j < w; ++j) {
          const bool take = beats<kMax>(row[j], best[j]);
          best[j] = take ? row[j] : best[j];
          bi[j] = take ? l : bi[j];
        }
      }
      for (int64_t j = 0; j < w; ++j) y[o * inner + j0 + j] = bi[j];
    }
  }, std::max<int64_t>(1, kParallelGrain / (L * std::min(kTile, inner))));
}

template <bool kMax>
void search_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const Shape& s = in[0].shape;
  int64_t outer = 1, L = s.size(), inner = 1;
  if (!p.is_none("axis")) {
    const int a = normalize_axis(static_cast<int>(p.get_int("axis")), s.ndim());
    outer = s.prod(0, a);
    L = s[a];
    inner = s.prod(a + 1, s.ndim());
  }
  if (out[0].size() == 0) return;
  MX_CHECK(L > 0, kShape, p.op().name(), ": cannot search an empty sequence (input shape ", s.str(), ")");
  MX_CHECK(L - 1 <= max_exact_index(in[0].dtype), kInvalidArgument, p.op().name(), ": ", L,
           " positions along the axis cannot all be represented exactly as ", dtype_name(in[0].dtype),
           " indices (the output has the input's dtype)");
  with_compute_type(p.op().name().c_str(), in[0].dtype, [&](auto c) {
    using C = decltype(c);
    write_output<int64_t>(out[0], [&](int64_t* y) { search_run<C, kMax>(source_of<C>(in[0]), y, outer, L, inner); });
  });
}

// ------------------------------------------------------------------ registration
const char* kAxisDoc =
    "The axis or axes along which to perform the reduction. The default, axis=() or None, reduces all "
    "elements into an array of shape (1,). Negative values count from the end. If exclude is true, "
    "the reduction runs over the axes NOT in axis.";
const char* kKeepDoc = "If true, the reduced axes are left in the result as dimensions of size one.";
const char* kExcludeDoc = "Whether to reduce over the axes that are NOT in axis instead.";

OpDef& reduction(OpDef& op, const char* doc, ComputeFn fn, bool nonempty = false) {
  return op.describe(doc)
      .input("data")
      .param_shape("axis", "None", kAxisDoc)
      .param_bool("keepdims", "False", kKeepDoc)
      .param_bool("exclude", "False", kExcludeDoc)
      .infer_shape(nonempty ? reduce_shape_nonempty : reduce_shape)
      .dtypes(kNumericTypes)
      .differentiable(false)
      .cpu(fn);
}

#define MX_REDUCE_REG(var, name) static OpDef& var __attribute__((unused)) = reduction(register_op(name)

MX_REDUCE_REG(reg_sum, "sum"), "Computes the sum of array elements over the given axes.", reduce_compute<Sum>)
    .alias("sum_axis");
MX_REDUCE_REG(reg_mean, "mean"), "Computes the mean of array elements over the given axes (integer inputs: "
              "the sum divided by the count, truncated toward zero).", mean_compute);
MX_REDUCE_REG(reg_prod, "prod"), "Computes the product of array elements over the given axes.",
              reduce_compute<Prod>);
MX_REDUCE_REG(reg_nansum, "nansum"), "Computes the sum of array elements over the given axes, treating NaN "
              "values as zero.", reduce_compute<NanSum>);
MX_REDUCE_REG(reg_nanprod, "nanprod"), "Computes the product of array elements over the given axes, treating "
              "NaN values as one.", reduce_compute<NanProd>);
MX_REDUCE_REG(reg_max, "max"), "Computes the maximum of array elements over the given axes (NaN propagates).",
              reduce_compute<Max>, true)
    .alias("max_axis");
MX_REDUCE_REG(reg_min, "min"), "Computes the minimum of array elements over the given axes (NaN propagates).",
              reduce_compute<Min>, true)
    .alias("min_axis");
#undef MX_REDUCE_REG

MX_REGISTER_OP(norm)
    .describe("Computes the L1 (ord=1) or L2 (ord=2) norm over the given axes; by default the L2 norm of the "
              "whole array, of shape (1,). A 2-tuple axis gives the Frobenius norm of those matrices.")
    .input("data")
    .param_int("ord", "2", "Order of the norm. Currently ord=1 and ord=2 are supported.")
    .param_shape("axis", "None", kAxisDoc)
    .param_enum("out_dtype", {"float16", "float32", "float64", "int32", "int64", "int8"}, "None",
                "The data type of the output (default: the input's).")
    .param_bool("keepdims", "False", kKeepDoc)
    .infer_shape(norm_shape)
    .infer_type(norm_type)
    .dtypes(kNumericTypes)
    .differentiable(false)
    .cpu(norm_compute);

OpDef& search(OpDef& op, const char* what, ComputeFn fn) {
  return op.describe(str("Returns the indices of the ", what, " values along an axis, in the input's dtype (ties: "
                         "the first index; NaN counts as the ", what, ")."))
      .input("data")
      .param_int("axis", "None", "The axis along which to search. Negative values count from the end. None "
                 "searches the flattened input.")
      .param_bool("keepdims", "False", kKeepDoc)
      .infer_shape(search_shape)
      .dtypes(kNumericTypes)
      .differentiable(false)
      .cpu(fn);
}

static OpDef& reg_argmax __attribute__((unused)) = search(register_op("argmax"), "maximum", search_compute<true>);
static OpDef& reg_argmin __attribute__((unused)) = search(register_op("argmin"), "minimum", search_compute<false>);

}  // namespace
}  // namespace mx
