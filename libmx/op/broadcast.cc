// broadcast_* binary ops: numpy broadcasting of "lhs" and "rhs" (same dtype); comparison and
// logical ops write 1/0 in the input dtype, as MXNet 1.x.
//
// The kernel collapses the broadcast into as few dims as possible: size-1 output dims are
// dropped and neighbouring dims with the same broadcast pattern (both full, only lhs full, only
// rhs full) are merged. The last collapsed dim is the contiguous inner loop of the shared strided
// kernel (both sides contiguous, or one side a repeated value), and one kernel call covers a run
// of rows along the dim before it, so short rows (bias of a few elements) cost little; the outer
// dims are walked with an odometer. Threads split the flat output range, so one huge row
// parallelises as well as many small ones. Equal shapes and scalar-like operands collapse to one
// dim: a single loop.
#include <algorithm>
#include <cstring>
#include <vector>

#include "op/elemwise_op.h"
#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace elemwise {
namespace {

bool overlaps(const TBlob& x, const TBlob& out) {
  const char* x0 = static_cast<const char*>(x.data);
  const char* o0 = static_cast<const char*>(out.data);
  return x0 < o0 + out.nbytes() && o0 < x0 + x.nbytes();
}

}  // namespace

void binary_broadcast(BinaryKind k, const TBlob& a, const TBlob& b, const TBlob& out) {
  const int64_t n = out.size();
  if (n == 0) return;
  const int nd = out.ndim();
  MX_CHECK(a.ndim() <= nd && b.ndim() <= nd && a.dtype == b.dtype && a.dtype == out.dtype, kInternal,
           "broadcast operands ", a.shape.str(), " and ", b.shape.str(), " do not fit output ", out.shape.str());
  int64_t as[Shape::kMaxDim], bs[Shape::kMaxDim];
  for (int d = 0; d < nd; ++d) {
    int ia = d - (nd - a.ndim()), ib = d - (nd - b.ndim());
    as[d] = ia >= 0 ? a.shape[ia] : 1;
    bs[d] = ib >= 0 ? b.shape[ib] : 1;
    const int64_t o = out.shape[d];
    MX_CHECK((as[d] == o || as[d] == 1) && (bs[d] == o || bs[d] == 1), kShape, "shapes ", a.shape.str(),
             " and ", b.shape.str(), " cannot be broadcast to ", out.shape.str());
  }
  if (a.size() == n && b.size() == n) {
    binary_same_shape(k, a, b, out);
    return;
  }

  // A broadcast operand read many times must not be overwritten while it is read.
  std::vector<char> a_copy, b_copy;
  const char* pa = static_cast<const char*>(a.data);
  const char* pb = static_cast<const char*>(b.data);
  if (a.size() != n && overlaps(a, out)) {
    a_copy.assign(pa, pa + a.nbytes());
    pa = a_copy.data();
  }
  if (b.size() != n && overlaps(b, out)) {
    b_copy.assign(pb, pb + b.nbytes());
    pb = b_copy.data();
  }

  // Collapse. pattern bit 0: lhs spans the dim; bit 1: rhs spans it.
  int cd = 0;
  int64_t dims[Shape::kMaxDim];
  int pat[Shape::kMaxDim];
  for (int d = 0; d < nd; ++d) {
    const int64_t o = out.shape[d];
    if (o == 1) continue;
    const int p = (as[d] == o ? 1 : 0) | (bs[d] == o ? 2 : 0);
    if (cd > 0 && pat[cd - 1] == p) {
      dims[cd - 1] *= o;
    } else {
      dims[cd] = o;
      pat[cd] = p;
      ++cd;
    }
  }
  BinaryRowsFn fn = binary_rows(k, a.dtype);
  const int64_t es = static_cast<int64_t>(dtype_size(a.dtype));
  char* po = static_cast<char*>(out.data);
  if (cd == 0) {  // a single element
    fn(pa, 0, 0, pb, 0, 0, po, 1, 1);
    return;
  }
  int64_t sta[Shape::kMaxDim], stb[Shape::kMaxDim];
  int64_t ra = 1, rb = 1;
  for (int d = cd - 1; d >= 0; --d) {
    sta[d] = (pat[d] & 1) ? ra : 0;
    stb[d] = (pat[d] & 2) ? rb : 0;
    if (pat[d] & 1) ra *= dims[d];
    if (pat[d] & 2) rb *= dims[d];
  }
  const int64_t inner = dims[cd - 1];
  const int64_t isa = (pat[cd - 1] & 1) ? 1 : 0;
  const int64_t isb = (pat[cd - 1] & 2) ? 1 : 0;
  if (cd == 1) {  // one loop: equal shapes, or one operand a single repeated value
    parallel_range(
        n,
        [&](int64_t s, int64_t e) {
          fn(pa + s * isa * es, 0, isa, pb + s * isb * es, 0, isb, po + s * es, 1, e - s);
        },
        binary_grain(k));
    return;
  }
  // Rows are the product of dims [0, cd - 1); `rd` is the row dim walked by one kernel call.
  const int rd = cd - 2;

  parallel_range(
      n,
      [&](int64_t begin, int64_t end) {
        int64_t idx[Shape::kMaxDim];
        int64_t row = begin / inner, col = begin % inner;
        int64_t oa = 0, ob = 0;
        for (int d = rd; d >= 0; --d) {
          idx[d] = row % dims[d];
          row /= dims[d];
          oa += idx[d] * sta[d];
          ob += idx[d] * stb[d];
        }
        // Moves the row position forward by r rows (r never crosses the end of dim rd).
        auto advance = [&](int64_t r) {
          idx[rd] += r;
          oa += r * sta[rd];
          ob += r * stb[rd];
          for (int d = rd; d >= 0 && idx[d] == dims[d]; --d) {
            oa -= sta[d] * dims[d];
            ob -= stb[d] * dims[d];
            idx[d] = 0;
            if (d > 0) {
              ++idx[d - 1];
              oa += sta[d - 1];
              ob += stb[d - 1];
            }
          }
        };
        int64_t pos = begin;
        while (pos < end) {
          if (col != 0 || end - pos < inner) {  // a partial row at either end of the chunk
            const int64_t len = std::min(inner - col, end - pos);
            fn(pa + (oa + col * isa) * es, 0, isa, pb + (ob + col * isb) * es, 0, isb, po + pos * es, 1, len);
            pos += len;
            col += len;
            if (col < inner) break;
            col = 0;
            advance(1);
          } else {  // whole rows, as many as dim rd has left
            const int64_t r = std::min(dims[rd] - idx[rd], (end - pos) / inner);
            fn(pa + oa * es, sta[rd], isa, pb + ob * es, stb[rd], isb, po + pos * es, r, inner);
            pos += r * inner;
            advance(r);
          }
        }
      },
      binary_grain(k));
}

}  // namespace elemwise

namespace {

using elemwise::BinaryKind;

template <BinaryKind K>
void broadcast_compute(const OpContext&, const Params&, const std::vector<TBlob>& in,
                       const std::vector<TBlob>& out) {
  elemwise::binary_broadcast(K, in[0], in[1], out[0]);
}

}  // namespace

#define MX_BROADCAST_OP(name, kind)                   \
  MX_REGISTER_OP(name)                                \
      .input("lhs")                                   \
      .input("rhs")                                   \
      .infer_shape(infer_broadcast_shape)             \
      .dtypes(elemwise::binary_dtypes(kind))          \
      .cpu(broadcast_compute<kind>)                   \
      .inplace({{0, 0}, {1, 0}})                      \
      .differentiable(false)

MX_BROADCAST_OP(broadcast_add, BinaryKind::kAdd)
    .alias("broadcast_plus")
    .describe("lhs + rhs with numpy-style broadcasting.");
MX_BROADCAST_OP(broadcast_sub, BinaryKind::kSub)
    .alias("broadcast_minus")
    .describe("lhs - rhs with numpy-style broadcasting.");
MX_BROADCAST_OP(broadcast_mul, BinaryKind::kMul)
    .describe("lhs * rhs with numpy-style broadcasting.");
MX_BROADCAST_OP(broadcast_div, BinaryKind::kDiv)
    .describe(
        "lhs / rhs with numpy-style broadcasting. Integer division truncates toward zero; an integer "
        "division by zero gives 0.");
MX_BROADCAST_OP(broadcast_mod, BinaryKind::kMod)
    .describe(
        "lhs mod rhs with numpy-style broadcasting; the result has the sign of the divisor, and a "
        "remainder by zero is 0.");
MX_BROADCAST_OP(broadcast_power, BinaryKind::kPower)
    .describe("lhs ** rhs with numpy-style broadcasting.");
MX_BROADCAST_OP(broadcast_maximum, BinaryKind::kMaximum)
    .describe("Elementwise maximum with numpy-style broadcasting; NaN propagates.");
MX_BROADCAST_OP(broadcast_minimum, BinaryKind::kMinimum)
    .describe("Elementwise minimum with numpy-style broadcasting; NaN propagates.");
MX_BROADCAST_OP(broadcast_hypot, BinaryKind::kHypot)
    .describe("sqrt(lhs^2 + rhs^2) with numpy-style broadcasting.");
MX_BROADCAST_OP(broadcast_equal, BinaryKind::kEqual)
    .describe("1 where lhs == rhs else 0, broadcast, in the input dtype.");
MX_BROADCAST_OP(broadcast_not_equal, BinaryKind::kNotEqual)
    .describe("1 where lhs != rhs else 0, broadcast, in the input dtype.");
MX_BROADCAST_OP(broadcast_greater, BinaryKind::kGreater)
    .describe("1 where lhs > rhs else 0, broadcast, in the input dtype.");
MX_BROADCAST_OP(broadcast_greater_equal, BinaryKind::kGreaterEqual)
    .describe("1 where lhs >= rhs else 0, broadcast, in the input dtype.");
MX_BROADCAST_OP(broadcast_lesser, BinaryKind::kLesser)
    .describe("1 where lhs < rhs else 0, broadcast, in the input dtype.");
MX_BROADCAST_OP(broadcast_lesser_equal, BinaryKind::kLesserEqual)
    .describe("1 where lhs <= rhs else 0, broadcast, in the input dtype.");
MX_BROADCAST_OP(broadcast_logical_and, BinaryKind::kLogicalAnd)
    .describe("1 where both lhs and rhs are nonzero else 0, broadcast, in the input dtype.");
MX_BROADCAST_OP(broadcast_logical_or, BinaryKind::kLogicalOr)
    .describe("1 where lhs or rhs is nonzero else 0, broadcast, in the input dtype.");
MX_BROADCAST_OP(broadcast_logical_xor, BinaryKind::kLogicalXor)
    .describe("1 where exactly one of lhs and rhs is nonzero else 0, broadcast, in the input dtype.");

}  // namespace mx
