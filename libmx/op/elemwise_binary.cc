// Same-shape binary elementwise ops (elemwise_add, _mod, _equal, ...): inputs "lhs" and "rhs" of
// exactly equal shapes and dtypes; the output has that shape and dtype. Comparison and logical ops
// write 1/0 in the input dtype (MXNet 1.x). Kernel semantics: elemwise_binary_kernels.cc.
#include "op/elemwise_op.h"
#include "op/registry.h"

namespace mx {
namespace {

using elemwise::BinaryKind;

template <BinaryKind K>
void same_shape_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                        const std::vector<TBlob>& out) {
  MX_CHECK(in[0].shape == in[1].shape, kShape, "operator ", p.op().name(), ": shapes ", in[0].shape.str(),
           " and ", in[1].shape.str(), " must be equal");
  elemwise::binary_same_shape(K, in[0], in[1], out[0]);
}

}  // namespace

#define MX_SAME_SHAPE_OP(name, kind)                 \
  MX_REGISTER_OP(name)                               \
      .input("lhs")                                  \
      .input("rhs")                                  \
      .infer_shape(infer_same_shape)                 \
      .dtypes(elemwise::binary_dtypes(kind))         \
      .cpu(same_shape_compute<kind>)                 \
      .inplace({{0, 0}, {1, 0}})                     \
      .differentiable(false)

MX_SAME_SHAPE_OP(elemwise_add, BinaryKind::kAdd)
    .alias("_add").alias("_plus").alias("_Plus")
    .describe("Adds arguments elementwise (shapes must be equal).");
MX_SAME_SHAPE_OP(elemwise_sub, BinaryKind::kSub)
    .alias("_sub").alias("_minus").alias("_Minus")
    .describe("Subtracts arguments elementwise (shapes must be equal).");
MX_SAME_SHAPE_OP(elemwise_mul, BinaryKind::kMul)
    .alias("_mul").alias("_Mul")
    .describe("Multiplies arguments elementwise (shapes must be equal).");
MX_SAME_SHAPE_OP(elemwise_div, BinaryKind::kDiv)
    .alias("_div").alias("_Div")
    .describe(
        "Divides arguments elementwise (shapes must be equal). Integer division truncates toward zero; "
        "an integer division by zero gives 0.");
MX_SAME_SHAPE_OP(_mod, BinaryKind::kMod)
    .alias("_Mod")
    .describe(
        "Remainder elementwise with the sign of the divisor (numpy's rule); a remainder by zero is 0.");
MX_SAME_SHAPE_OP(_power, BinaryKind::kPower)
    .alias("_Power")
    .describe("lhs raised to the power rhs, elementwise.");
MX_SAME_SHAPE_OP(_maximum, BinaryKind::kMaximum)
    .alias("_Maximum")
    .describe("Elementwise maximum; NaN propagates.");
MX_SAME_SHAPE_OP(_minimum, BinaryKind::kMinimum)
    .alias("_Minimum")
    .describe("Elementwise minimum; NaN propagates.");
MX_SAME_SHAPE_OP(_hypot, BinaryKind::kHypot)
    .alias("_Hypot")
    .describe("sqrt(lhs^2 + rhs^2) elementwise, without intermediate overflow.");
MX_SAME_SHAPE_OP(_equal, BinaryKind::kEqual)
    .alias("_Equal")
    .describe("1 where lhs == rhs else 0, elementwise, in the input dtype.");
MX_SAME_SHAPE_OP(_not_equal, BinaryKind::kNotEqual)
    .alias("_Not_Equal")
    .describe("1 where lhs != rhs else 0, elementwise, in the input dtype.");
MX_SAME_SHAPE_OP(_greater, BinaryKind::kGreater)
    .alias("_Greater")
    .describe("1 where lhs > rhs else 0, elementwise, in the input dtype.");
MX_SAME_SHAPE_OP(_greater_equal, BinaryKind::kGreaterEqual)
    .alias("_Greater_Equal")
    .describe("1 where lhs >= rhs else 0, elementwise, in the input dtype.");
MX_SAME_SHAPE_OP(_lesser, BinaryKind::kLesser)
    .alias("_Lesser")
    .describe("1 where lhs < rhs else 0, elementwise, in the input dtype.");
MX_SAME_SHAPE_OP(_lesser_equal, BinaryKind::kLesserEqual)
    .alias("_Lesser_Equal")
    .describe("1 where lhs <= rhs else 0, elementwise, in the input dtype.");
MX_SAME_SHAPE_OP(_logical_and, BinaryKind::kLogicalAnd)
    .alias("_Logical_And")
    .describe("1 where both lhs and rhs are nonzero else 0, elementwise, in the input dtype.");
MX_SAME_SHAPE_OP(_logical_or, BinaryKind::kLogicalOr)
    .alias("_Logical_Or")
    .describe("1 where lhs or rhs is nonzero else 0, elementwise, in the input dtype.");
MX_SAME_SHAPE_OP(_logical_xor, BinaryKind::kLogicalXor)
    .alias("_Logical_Xor")
    .describe("1 where exactly one of lhs and rhs is nonzero else 0, elementwise, in the input dtype.");

}  // namespace mx
