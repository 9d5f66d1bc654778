// Binary ops between an array and a scalar parameter (_plus_scalar, _rminus_scalar, ...), with
// MXNet 1.9's parameters: scalar (float, default 1) and is_int (bool, default True).
//
// Result dtype (MXNet 1.9's rule): the input dtype, except that an integer input with
// is_int=False computes in float64, and a bool input computes in int64 (is_int=True) or float64.
// The scalar is converted to the computing dtype first (MXNet's DType(scalar)): for integer arrays
// 2.7 becomes 2. The r-forms put the scalar on the left: _rminus_scalar(x, s) = s - x.
#include "op/elemwise_op.h"
#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

using elemwise::BinaryKind;

DType scalar_result_dtype(DType in, bool is_int) {
  if (in == DType::kBool) return is_int ? DType::kInt64 : DType::kFloat64;
  if (dtype_is_int(in) && !is_int) return DType::kFloat64;
  return in;
}

void infer_scalar_type(const Params& p, std::vector<DType>* in, std::vector<DType>* out) {
  DType& t = (*in)[0];
  DType& o = (*out)[0];
  if (t == kUnknownDType) {
    // Only the identity case can be inverted (as MXNet does).
    if (o != kUnknownDType) t = o;
    return;
  }
  DType want = scalar_result_dtype(t, p.get_bool("is_int"));
  MX_CHECK(o == kUnknownDType || o == want, kDType, "operator ", p.op().name(), ": output dtype ",
           dtype_name(o), " does not match the result dtype ", dtype_name(want), " of a ", dtype_name(t),
           " input");
  o = want;
}

template <BinaryKind K, bool Reverse>
void scalar_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                    const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  const TBlob& y = out[0];
  const double s = p.get_float("scalar");
  if (x.dtype != y.dtype) {
    // Promoted input: convert into the output, then compute in place there.
    cast_copy(x, y);
    elemwise::binary_scalar(K, Reverse, y, s, y);
  } else {
    elemwise::binary_scalar(K, Reverse, x, s, y);
  }
}

}  // namespace

#define MX_SCALAR_OP(name, kind, reverse)                                               \
  MX_REGISTER_OP(name)                                                                  \
      .input("data")                                                                    \
      .param_float("scalar", "1", "Scalar input value")                                 \
      .param_bool("is_int", "True", "Indicate whether scalar input is int type")       \
      .infer_shape(infer_same_shape)                                                    \
      .infer_type(infer_scalar_type)                                                    \
      .cpu(scalar_compute<kind, reverse>)                                               \
      .inplace({{0, 0}})                                                                \
      .differentiable(false)

MX_SCALAR_OP(_plus_scalar, BinaryKind::kAdd, false).alias("_PlusScalar")
    .describe("data + scalar, elementwise.");
MX_SCALAR_OP(_minus_scalar, BinaryKind::kSub, false).alias("_MinusScalar")
    .describe("data - scalar, elementwise.");
MX_SCALAR_OP(_rminus_scalar, BinaryKind::kSub, true).alias("_RMinusScalar")
    .describe("scalar - data, elementwise.");
MX_SCALAR_OP(_mul_scalar, BinaryKind::kMul, false).alias("_MulScalar")
    .describe("data * scalar, elementwise.");
MX_SCALAR_OP(_div_scalar, BinaryKind::kDiv, false).alias("_DivScalar")
    .describe("data / scalar, elementwise (integer division truncates; by zero gives 0).");
MX_SCALAR_OP(_rdiv_scalar, BinaryKind::kDiv, true).alias("_RDivScalar")
    .describe("scalar / data, elementwise (integer division truncates; by zero gives 0).");
MX_SCALAR_OP(_mod_scalar, BinaryKind::kMod, false).alias("_ModScalar")
    .describe("data mod scalar, elementwise, with the sign of the divisor; mod by zero gives 0.");
MX_SCALAR_OP(_rmod_scalar, BinaryKind::kMod, true).alias("_RModScalar")
    .describe("scalar mod data, elementwise, with the sign of the divisor; mod by zero gives 0.");
MX_SCALAR_OP(_power_scalar, BinaryKind::kPower, false).alias("_PowerScalar")
    .describe("data ** scalar, elementwise.");
MX_SCALAR_OP(_rpower_scalar, BinaryKind::kPower, true).alias("_RPowerScalar")
    .describe("scalar ** data, elementwise.");
MX_SCALAR_OP(_maximum_scalar, BinaryKind::kMaximum, false).alias("_MaximumScalar")
    .describe("max(data, scalar), elementwise; NaN propagates.");
MX_SCALAR_OP(_minimum_scalar, BinaryKind::kMinimum, false).alias("_MinimumScalar")
    .describe("min(data, scalar), elementwise; NaN propagates.");
MX_SCALAR_OP(_hypot_scalar, BinaryKind::kHypot, false).alias("_HypotScalar")
    .describe("sqrt(data^2 + scalar^2), elementwise.");
MX_SCALAR_OP(_equal_scalar, BinaryKind::kEqual, false).alias("_EqualScalar")
    .describe("1 where data == scalar else 0, elementwise.");
MX_SCALAR_OP(_not_equal_scalar, BinaryKind::kNotEqual, false).alias("_NotEqualScalar")
    .describe("1 where data != scalar else 0, elementwise.");
MX_SCALAR_OP(_greater_scalar, BinaryKind::kGreater, false).alias("_GreaterScalar")
    .describe("1 where data > scalar else 0, elementwise.");
MX_SCALAR_OP(_greater_equal_scalar, BinaryKind::kGreaterEqual, false).alias("_GreaterEqualScalar")
    .describe("1 where data >= scalar else 0, elementwise.");
MX_SCALAR_OP(_lesser_scalar, BinaryKind::kLesser, false).alias("_LesserScalar")
    .describe("1 where data < scalar else 0, elementwise.");
MX_SCALAR_OP(_lesser_equal_scalar, BinaryKind::kLesserEqual, false).alias("_LesserEqualScalar")
    .describe("1 where data <= scalar else 0, elementwise.");
MX_SCALAR_OP(_logical_and_scalar, BinaryKind::kLogicalAnd, false).alias("_LogicalAndScalar")
    .describe("1 where data and scalar are both nonzero else 0, elementwise.");
MX_SCALAR_OP(_logical_or_scalar, BinaryKind::kLogicalOr, false).alias("_LogicalOrScalar")
    .describe("1 where data or scalar is nonzero else 0, elementwise.");
MX_SCALAR_OP(_logical_xor_scalar, BinaryKind::kLogicalXor, false).alias("_LogicalXorScalar")
    .describe("1 where exactly one of data and scalar is nonzero else 0, elementwise.");

}  // namespace mx
