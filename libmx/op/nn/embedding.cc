// Embedding (forward): out[..., :] = weight[index, :] for each entry of data.
//
// data holds indices of any dtype (floats truncated toward zero); as in MXNet, indices are clipped
// to [0, input_dim - 1]. weight has shape (input_dim, output_dim) and the dtype given by `dtype`;
// the output has shape data.shape + (output_dim,) and that dtype. sparse_grad is accepted (it only
// selects the gradient's storage; gradients here are dense).
#include <algorithm>
#include <cstring>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"
#include "op/shape_copy.h"

namespace mx {
namespace {

const std::vector<DType> kAllNine = {DType::kFloat32, DType::kFloat64, DType::kFloat16,
                                     DType::kBFloat16, DType::kUInt8,  DType::kInt8,
                                     DType::kInt32,   DType::kInt64,   DType::kBool};

void dims(const Params& p, int64_t* in_dim, int64_t* out_dim) {
  *in_dim = p.get_int("input_dim");
  *out_dim = p.get_int("output_dim");
  MX_CHECK(*in_dim >= 1, kInvalidArgument, "Embedding: input_dim must be positive, got ", *in_dim);
  MX_CHECK(*out_dim >= 1, kInvalidArgument, "Embedding: output_dim must be positive, got ", *out_dim);
}

void embedding_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  int64_t in_dim, out_dim;
  dims(p, &in_dim, &out_dim);
  const Shape want{in_dim, out_dim};
  Shape& w = (*in)[1];
  if (!w.known()) w = want;
  else
    MX_CHECK(w == want, kShape, "Embedding: weight must have shape (input_dim, output_dim) = ", want.str(),
             ", got ", w.str());
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  Shape o = d;
  o.push_back(out_dim);
  (*out)[0] = o;
}

void embedding_type(const Params& p, std::vector<DType>* in, std::vector<DType>* out) {
  const DType t = p.get_dtype("dtype");
  DType& w = (*in)[1];
  if (w == kUnknownDType) w = t;
  else
    MX_CHECK(w == t, kDType, "Embedding: weight has dtype ", dtype_name(w), " but dtype=", dtype_name(t),
             " (pass dtype='", dtype_name(w), "' to use this weight)");
  if ((*in)[0] == kUnknownDType) (*in)[0] = t;
  (*out)[0] = t;
}

void embedding_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  int64_t in_dim, out_dim;
  dims(p, &in_dim, &out_dim);
  const std::vector<int64_t> idx = load_indices(in[0]);
  const size_t row = static_cast<size_t>(out_dim) * dtype_size(in[1].dtype);
  const char* w = static_cast<const char*>(in[1].data);
  char* o = static_cast<char*>(out[0].data);
  parallel_range(static_cast<int64_t>(idx.size()), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      int64_t k = idx[i];
      k = k < 0 ? 0 : (k >= in_dim ? in_dim - 1 : k);
      std::memcpy(o + static_cast<size_t>(i) * row, w + static_cast<size_t>(k) * row, row);
    }
  }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, out_dim)));
}

}  // namespace

// gradient: see libmx/op/grad/ (none yet where no file there names this op)
MX_REGISTER_OP(Embedding)
    .describe("Maps integer indices to vector representations: out = weight[data] with indices clipped to "
              "[0, input_dim - 1]; output shape data.shape + (output_dim,).")
    .category("nn")
    .input("data").input("weight")
    .param_int("input_dim", OpDef::kRequired, "Vocabulary size of the input indices.")
    .param_int("output_dim", OpDef::kRequired, "Dimension of the embedding vectors.")
    .param_dtype("dtype", "float32", "Data type of weight.")
    .param_bool("sparse_grad", "False",
                "Compute row sparse gradient in the backward calculation. If set to True, the grad's "
                "storage type is row_sparse.")
    .infer_shape(embedding_shape)
    .infer_type(embedding_type)
    .dtypes(kAllNine)
    .differentiable(false)
    .cpu(embedding_cpu);

}  // namespace mx
