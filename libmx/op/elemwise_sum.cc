// add_n (ElementWiseSum): the sum of any number of same-shape arrays in one pass, as gradient
// accumulation and Gluon's multi-device reductions need. Integer types add in their own type
// (wrapping), floating types accumulate in AccType (float for float16/bfloat16).
#include <string>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

void add_n_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  Shape s = Shape::unknown();
  for (size_t i = 0; i < in->size(); ++i) {
    const Shape& x = (*in)[i];
    if (!shape_known(x)) continue;
    if (!shape_known(s)) s = x;
    MX_CHECK(x == s, kShape, "add_n: all inputs must have one shape, input 0 is ", s.str(), " but input ", i, " is ",
             x.str());
  }
  if (!shape_known(s) && shape_known((*out)[0])) s = (*out)[0];
  if (!shape_known(s)) return;
  for (auto& x : *in)
    if (!shape_known(x)) x = s;
  (*out)[0] = s;
}

void add_n_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const int64_t n = out[0].size();
  const size_t k = in.size();
  MX_DTYPE_SWITCH(out[0].dtype, T, {
    using A = typename AccType<T>::type;
    std::vector<const T*> src(k);
    for (size_t j = 0; j < k; ++j) src[j] = in[j].ptr<T>();
    T* y = out[0].ptr<T>();
    parallel_range(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        A acc = A(0);
        for (size_t j = 0; j < k; ++j) acc = acc + static_cast<A>(src[j][i]);
        y[i] = T(acc);
      }
    });
  });
}

MX_REGISTER_OP(add_n)
    .alias("ElementWiseSum")
    .category("elemwise")
    .describe("Adds all input arguments elementwise: add_n(a1, ..., an) = a1 + ... + an. All inputs have "
              "one shape and dtype.")
    .variadic_input("args", "num_args")
    .param_int("num_args", OpDef::kRequired, "Number of inputs to be summed.")
    .infer_shape(add_n_shape)
    .cpu(add_n_cpu);

// Each input receives the output gradient unchanged.
MX_REGISTER_GRADIENT(add_n, [](GradBuilder& b, const GradArgs& a) {
  return std::vector<GradValue>(a.inputs.size(), a.ograds[0]);
});

}  // namespace
}  // namespace mx
