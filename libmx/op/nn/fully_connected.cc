// FullyConnected: out = data * weight^T + bias, one GEMM.
//
// MXNet 1.9 semantics: weight is (num_hidden, K), bias (num_hidden,). flatten=True views data as
// (shape[0], prod(shape[1:])) and gives (shape[0], num_hidden); flatten=False keeps the leading
// axes and contracts the last, giving shape[:-1] + (num_hidden,). no_bias=True drops the bias input.
// float32/float64 go to the BLAS adapter; float16/bfloat16 are widened to float32, multiplied
// there (accumulating in float) and rounded once at the end.
//
// gradient: see libmx/op/grad/ (none yet where no file there names this op)
#include <type_traits>
#include <vector>

#include "kernels/cpu/blas.h"
#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

// (rows, K) of data's 2-d view under the flatten rule.
void fc_view(const Params& p, const Shape& d, int64_t* rows, int64_t* k) {
  MX_CHECK(d.ndim() >= 1, kShape, "FullyConnected: data must have at least one axis, got shape ", d.str());
  if (p.get_bool("flatten")) {
    *rows = d[0];
    *k = d.prod(1, d.ndim());
  } else {
    *k = d[d.ndim() - 1];
    *rows = d.prod(0, d.ndim() - 1);
  }
}

void fc_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const int64_t nh = p.get_int("num_hidden");
  MX_CHECK(nh >= 1, kInvalidArgument, "FullyConnected: num_hidden must be positive, got ", nh);
  const bool has_bias = !p.get_bool("no_bias");
  const Shape& d = (*in)[0];
  if (has_bias) {
    Shape& b = (*in)[2];
    if (!shape_known(b)) b = Shape{nh};
    MX_CHECK(b == Shape{nh}, kShape, "FullyConnected: bias has shape ", b.str(), ", expected ", Shape{nh}.str(),
             " (num_hidden=", nh, ")");
  }
  if (!shape_known(d)) return;
  int64_t rows, k;
  fc_view(p, d, &rows, &k);
  Shape& w = (*in)[1];
  const Shape want{nh, k};
  if (!shape_known(w)) w = want;
  MX_CHECK(w == want, kShape, "FullyConnected: weight has shape ", w.str(), ", expected ", want.str(),
           " for data shape ", d.str(), " (num_hidden=", nh, ", flatten=", p.get_bool("flatten") ? "True" : "False",
           ")");
  Shape o;
  if (p.get_bool("flatten")) {
    o = Shape{d[0], nh};
  } else {
    for (int i = 0; i + 1 < d.ndim(); ++i) o.push_back(d[i]);
    o.push_back(nh);
  }
  (*out)[0] = o;
}

void fc_type(const Params& p, std::vector<DType>* in, std::vector<DType>* out) {
  DType t = (*in)[0];
  for (DType x : *in)
    if (t == kUnknownDType) t = x;
  if (t == kUnknownDType) return;
  static const char* names[] = {"data", "weight", "bias"};
  for (size_t i = 0; i < in->size(); ++i) {
    if ((*in)[i] == kUnknownDType) (*in)[i] = t;
    MX_CHECK((*in)[i] == t, kDType, "FullyConnected: ", names[i], " has dtype ", dtype_name((*in)[i]),
             ", expected ", dtype_name(t), " (all inputs share one dtype)");
  }
  (*out)[0] = t;
  (void)p;
}

template <typename A, typename T>
void add_bias_rows(A* y, const T* bias, int64_t rows, int64_t n) {
  parallel_range(rows * n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] += cast_value<A>(bias[i % n]);
  });
}

template <typename T>
void fc_typed(const std::vector<TBlob>& in, const TBlob& out, int64_t rows, int64_t k, int64_t n, bool has_bias) {
  const T* x = in[0].ptr<T>();
  const T* w = in[1].ptr<T>();
  T* y = out.ptr<T>();
  if constexpr (std::is_same<T, float>::value || std::is_same<T, double>::value) {
    gemm(false, true, rows, n, k, T(1), x, k, w, k, T(0), y, n);
    if (has_bias) add_bias_rows(y, in[2].ptr<T>(), rows, n);
  } else {
    std::vector<float> xf(static_cast<size_t>(rows * k)), wf(static_cast<size_t>(n * k)),
        yf(static_cast<size_t>(rows * n));
    cast_copy(in[0], TBlob{xf.data(), in[0].shape, DType::kFloat32, in[0].dev});
    cast_copy(in[1], TBlob{wf.data(), in[1].shape, DType::kFloat32, in[1].dev});
    gemm(false, true, rows, n, k, 1.0f, xf.data(), k, wf.data(), k, 0.0f, yf.data(), n);
    if (has_bias) add_bias_rows(yf.data(), in[2].ptr<T>(), rows, n);
    cast_copy(TBlob{yf.data(), out.shape, DType::kFloat32, out.dev}, out);
  }
}

void fc_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  int64_t rows, k;
  fc_view(p, in[0].shape, &rows, &k);
  const int64_t n = p.get_int("num_hidden");
  const bool has_bias = !p.get_bool("no_bias");
  for (size_t i = 1; i < in.size(); ++i)
    MX_CHECK(in[i].dtype == in[0].dtype, kDType, "FullyConnected: inputs have different dtypes ",
             dtype_name(in[0].dtype), " and ", dtype_name(in[i].dtype));
  MX_FLOAT_DTYPE_SWITCH(in[0].dtype, T, { fc_typed<T>(in, out[0], rows, k, n, has_bias); });
}

MX_REGISTER_OP(FullyConnected)
    .describe("Applies a linear transformation: Y = X W^T + b. With flatten=True, data of shape (x1, x2, ..., "
              "xn) is viewed as (x1, x2*...*xn) and the output is (x1, num_hidden); with flatten=False the "
              "last axis is contracted and the output is (x1, ..., x(n-1), num_hidden). weight has shape "
              "(num_hidden, K) and bias (num_hidden,); no_bias=True drops the bias input.")
    .category("nn")
    .input("data")
    .input("weight")
    .input("bias")
    .num_inputs([](const Params& p) { return p.get_bool("no_bias") ? 2 : 3; })
    .param_int("num_hidden", OpDef::kRequired, "Number of hidden nodes of the output.")
    .param_bool("no_bias", "False", "Whether to disable bias parameter.")
    .param_bool("flatten", "True", "Whether to collapse all but the first axis of the input data tensor.")
    .infer_shape(fc_shape)
    .infer_type(fc_type)
    .float_dtypes()
    .differentiable(false)  // gradient: see libmx/op/grad/ (none yet where no file there names this op)
    .cpu(fc_compute);

}  // namespace
}  // namespace mx
