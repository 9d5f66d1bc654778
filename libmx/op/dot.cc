// dot and batch_dot.
//
// dot follows MXNet: for N-d inputs the last axis of lhs contracts with the first axis of rhs
// (transpose_a contracts lhs's first axis instead, transpose_b rhs's last axis); two 1-d inputs
// give their inner product as shape (1,). Either way it is a single GEMM over a 2-d view of each
// input. batch_dot multiplies matching matrices of (..., M, K) x (..., K, N) stacks.
//
// float32/float64 go to the BLAS adapter (kernels/cpu/blas.h); float16/bfloat16 are widened to
// float32 and multiplied there (accumulating in float); integer types multiply exactly in wrapping
// int64 arithmetic and the result is cast to the input dtype.
#include <type_traits>
#include <vector>

#include "kernels/cpu/blas.h"
#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

const std::vector<DType> kDotTypes = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16,
                                      DType::kUInt8,   DType::kInt8,    DType::kInt32,   DType::kInt64};

void check_stype(const Params& p) {
  MX_CHECK(p.is_none("forward_stype"), kUnsupported, p.op().name(), ": forward_stype='",
           p.get_string("forward_stype"), "' is not supported (only dense storage; leave it None)");
}

// The GEMM a dot call performs: C(M x N) = op(A) op(B).
struct DotGeometry {
  int64_t M = 1, N = 1, K = 1;
  bool ta = false, tb = false;
  int64_t lda = 1, ldb = 1;
  Shape out;
};

DotGeometry dot_geometry(const Params& p, const Shape& l, const Shape& r) {
  const bool ta = p.get_bool("transpose_a"), tb = p.get_bool("transpose_b");
  MX_CHECK(l.ndim() > 0 && r.ndim() > 0, kShape, "dot: 0-d inputs are not supported (shapes ", l.str(), " and ",
           r.str(), ")");
  DotGeometry g;
  g.ta = ta;
  g.tb = tb;
  if (l.ndim() == 1 && r.ndim() == 1) {
    MX_CHECK(!ta && !tb, kShape, "dot: cannot transpose vectors (shapes ", l.str(), " and ", r.str(), ")");
    MX_CHECK(l[0] == r[0], kShape, "dot: shape mismatch ", l.str(), " X ", r.str());
    g.K = l[0];
    g.lda = g.K;
    g.ldb = 1;
    g.ta = g.tb = false;
    g.out = Shape{1};
    return g;
  }
  // lhs viewed as (M, K), or (K, M) when transposed; rhs as (K, N), or (N, K) when transposed.
  int64_t lk;
  Shape lout, rout;
  if (ta) {
    lk = l[0];
    g.M = l.prod(1, l.ndim());
    for (int i = 1; i < l.ndim(); ++i) lout.push_back(l[i]);
    g.lda = g.M;
  } else {
    lk = l[l.ndim() - 1];
    g.M = l.prod(0, l.ndim() - 1);
    for (int i = 0; i + 1 < l.ndim(); ++i) lout.push_back(l[i]);
    g.lda = lk;
  }
  int64_t rk;
  if (tb) {
    rk = r[r.ndim() - 1];
    g.N = r.prod(0, r.ndim() - 1);
    for (int i = 0; i + 1 < r.ndim(); ++i) rout.push_back(r[i]);
    g.ldb = rk;
  } else {
    rk = r[0];
    g.N = r.prod(1, r.ndim());
    for (int i = 1; i < r.ndim(); ++i) rout.push_back(r[i]);
    g.ldb = g.N;
  }
  MX_CHECK(lk == rk, kShape, "dot: shape mismatch ", l.str(), " X ", r.str(), " (transpose_a=", ta ? "True" : "False",
           ", transpose_b=", tb ? "True" : "False", ")");
  g.K = lk;
  if (l.ndim() > 1)
    for (int i = 0; i < lout.ndim(); ++i) g.out.push_back(lout[i]);
  if (r.ndim() > 1)
    for (int i = 0; i < rout.ndim(); ++i) g.out.push_back(rout[i]);
  return g;
}

void dot_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  check_stype(p);
  if (!shape_known((*in)[0]) || !shape_known((*in)[1])) return;
  (*out)[0] = dot_geometry(p, (*in)[0], (*in)[1]).out;
}

// ------------------------------------------------------------------ typed GEMM over blobs
template <typename W, typename T>
std::vector<W> widen_copy(const T* x, int64_t n) {
  std::vector<W> w(static_cast<size_t>(n));
  W* d = w.data();
  parallel_range(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      if constexpr (std::is_integral<T>::value) d[i] = static_cast<W>(x[i]);
      else d[i] = static_cast<W>(static_cast<float>(x[i]));
    }
  });
  return w;
}

template <typename T, typename W>
void narrow_into(const std::vector<W>& w, T* y) {
  const W* s = w.data();
  parallel_range(static_cast<int64_t>(w.size()), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      if constexpr (std::is_integral<T>::value) y[i] = static_cast<T>(s[i]);  // wraps, as numpy's astype
      else y[i] = T(static_cast<float>(s[i]));
    }
  });
}

// Runs `batch` GEMMs of one geometry on typed blobs (batch == 1: a plain GEMM). Each matrix of A,
// B and C is contiguous with the given element strides.
template <typename T>
void typed_gemm(bool ta, bool tb, int64_t batch, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda,
                int64_t sa, const T* B, int64_t ldb, int64_t sb, T* C) {
  if constexpr (std::is_same<T, float>::value || std::is_same<T, double>::value) {
    gemm_batched(ta, tb, batch, M, N, K, T(1), A, lda, sa, B, ldb, sb, T(0), C, N, M * N);
  } else {
    // Narrow floats widen to float32, integers to int64; batch * M * N etc. are the blob sizes.
    using W = std::conditional_t<std::is_integral<T>::value, int64_t, float>;
    const std::vector<W> a = widen_copy<W>(A, batch * sa), b = widen_copy<W>(B, batch * sb);
    std::vector<W> c(static_cast<size_t>(batch * M * N));
    gemm_batched(ta, tb, batch, M, N, K, W(1), a.data(), lda, sa, b.data(), ldb, sb, W(0), c.data(), N, M * N);
    narrow_into(c, C);
  }
}

void dot_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const DotGeometry g = dot_geometry(p, in[0].shape, in[1].shape);
  MX_CHECK(in[0].dtype == in[1].dtype, kDType, "dot: inputs have different dtypes ", dtype_name(in[0].dtype), " and ",
           dtype_name(in[1].dtype));
  MX_DTYPE_SWITCH(in[0].dtype, T, {
    if constexpr (std::is_same<T, bool>::value) {
      MX_THROW(kDType, "dot: bool inputs are not supported");
    } else {
      typed_gemm<T>(g.ta, g.tb, 1, g.M, g.N, g.K, in[0].ptr<T>(), g.lda, g.M * g.K, in[1].ptr<T>(), g.ldb,
                    g.K * g.N, out[0].ptr<T>());
    }
  });
}

// ------------------------------------------------------------------ batch_dot
struct BatchGeometry {
  int64_t batch = 1, M = 0, N = 0, K = 0;
  Shape out;
};

BatchGeometry batch_geometry(const Params& p, const Shape& l, const Shape& r) {
  const bool ta = p.get_bool("transpose_a"), tb = p.get_bool("transpose_b");
  MX_CHECK(l.ndim() >= 3 && l.ndim() == r.ndim(), kShape,
           "batch_dot: inputs must both be N-d with N >= 3 and the same N, got ", l.str(), " and ", r.str());
  const int nd = l.ndim();
  BatchGeometry g;
  for (int i = 0; i < nd - 2; ++i) {
    MX_CHECK(l[i] == r[i], kShape, "batch_dot: the leading batch dimensions must be equal: ", l.str(), " X ",
             r.str());
    g.batch *= l[i];
    g.out.push_back(l[i]);
  }
  g.M = ta ? l[nd - 1] : l[nd - 2];
  const int64_t lk = ta ? l[nd - 2] : l[nd - 1];
  g.N = tb ? r[nd - 2] : r[nd - 1];
  const int64_t rk = tb ? r[nd - 1] : r[nd - 2];
  MX_CHECK(lk == rk, kShape, "batch_dot: shape mismatch ", l.str(), " X ", r.str(),
           " (transpose_a=", ta ? "True" : "False", ", transpose_b=", tb ? "True" : "False", ")");
  g.K = lk;
  g.out.push_back(g.M);
  g.out.push_back(g.N);
  return g;
}

void batch_dot_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  check_stype(p);
  if (!shape_known((*in)[0]) || !shape_known((*in)[1])) return;
  (*out)[0] = batch_geometry(p, (*in)[0], (*in)[1]).out;
}

void batch_dot_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                       const std::vector<TBlob>& out) {
  const BatchGeometry g = batch_geometry(p, in[0].shape, in[1].shape);
  const bool ta = p.get_bool("transpose_a"), tb = p.get_bool("transpose_b");
  MX_CHECK(in[0].dtype == in[1].dtype, kDType, "batch_dot: inputs have different dtypes ",
           dtype_name(in[0].dtype), " and ", dtype_name(in[1].dtype));
  // Stored (M, K) or (K, M) for lhs, (K, N) or (N, K) for rhs: the row length is the last dim.
  const int64_t lda = ta ? g.M : g.K, ldb = tb ? g.K : g.N;
  MX_DTYPE_SWITCH(in[0].dtype, T, {
    if constexpr (std::is_same<T, bool>::value) {
      MX_THROW(kDType, "batch_dot: bool inputs are not supported");
    } else {
      typed_gemm<T>(ta, tb, g.batch, g.M, g.N, g.K, in[0].ptr<T>(), lda, g.M * g.K, in[1].ptr<T>(), ldb, g.K * g.N,
                    out[0].ptr<T>());
    }
  });
}

const char* kStypeDoc = "The desired storage type of the forward output (only None, dense, is supported).";

MX_REGISTER_OP(dot)
    .describe("Dot product of two arrays. 1-d x 1-d is the inner product (shape (1,)); otherwise the last "
              "axis of lhs contracts with the first axis of rhs, and the output shape is lhs.shape[:-1] + "
              "rhs.shape[1:]. transpose_a / transpose_b transpose the 2-d views (lhs reshaped to "
              "(shape[0], -1), rhs to (-1, shape[-1])) before multiplying.")
    .input("lhs")
    .input("rhs")
    .param_bool("transpose_a", "False", "If true then transpose the first input before dot.")
    .param_bool("transpose_b", "False", "If true then transpose the second input before dot.")
    .param_enum("forward_stype", {"None", "csr", "default", "row_sparse"}, "None", kStypeDoc)
    .infer_shape(dot_shape)
    .dtypes(kDotTypes)
    .differentiable(false)
    .cpu(dot_compute);

MX_REGISTER_OP(batch_dot)
    .describe("Batchwise dot product: for inputs of shape (..., M, K) and (..., K, N) (or transposed with "
              "transpose_a / transpose_b) with equal leading batch dimensions, multiplies matching matrices "
              "into an output of shape (..., M, N).")
    .input("lhs")
    .input("rhs")
    .param_bool("transpose_a", "False", "If true then transpose the first input before dot.")
    .param_bool("transpose_b", "False", "If true then transpose the second input before dot.")
    .param_enum("forward_stype", {"None", "csr", "default", "row_sparse"}, "None", kStypeDoc)
    .infer_shape(batch_dot_shape)
    .dtypes(kDotTypes)
    .differentiable(false)
    .cpu(batch_dot_compute);

}  // namespace
}  // namespace mx
