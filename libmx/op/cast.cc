// Cast: elementwise dtype conversion (numpy's astype rules; bool is "nonzero").
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

void cast_type(const Params& p, std::vector<DType>*, std::vector<DType>* out) { (*out)[0] = p.get_dtype("dtype"); }

void cast_cpu(const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  cast_copy(in[0], out[0]);
}

}  // namespace

MX_REGISTER_OP(Cast)
    .alias("cast")
    .category("elemwise")
    .describe("Casts all elements of the input to a new dtype (float to integer truncates toward zero).")
    .input("data")
    .param_dtype("dtype", OpDef::kRequired, "Output data type.")
    .infer_shape(infer_same_shape)
    .infer_type(cast_type)
    .cpu(cast_cpu)
    .differentiable(false);

}  // namespace mx
