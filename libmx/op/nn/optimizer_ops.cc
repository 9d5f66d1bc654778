// Fused optimizer updates, as MXNet 1.9 registers them: sgd_update, sgd_mom_update, nag_mom_update,
// adam_update, _adamw_update, rmsprop_update, rmspropalex_update, ftrl_update,
// _sparse_adagrad_update, lamb_update_phase1, lamb_update_phase2 and multi_sum_sq.
//
// Each update returns the new weight as its output (callers pass out=weight, which runs in place)
// and writes its optimizer states (mom, mean, var, n, ...) in place: they are declared mutated
// inputs. Gradients are rescaled (rescale_grad * grad) and then clipped to
// [-clip_gradient, clip_gradient] when clip_gradient >= 0; where MXNet adds the weight decay before
// clipping (adam, rmsprop, rmspropalex) so do we. Arithmetic runs in the input dtype, float16 in
// float. Dense storage only: lazy_update (which only changes row_sparse gradients) has no effect.
//
// gradient: see libmx/op/grad/ (none yet where no file there names this op) (optimizer updates are not differentiated)
// Float selects (clipping) if-convert, and the update loops vectorise, only without trapping math.
#pragma GCC optimize("no-trapping-math")
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "base/error.h"
#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

// MXNet computes its updates for float32, float64 and float16.
#define MX_OPT_DTYPE_SWITCH(t, DT, ...)                                                     \
  switch (t) {                                                                              \
    MX_TYPE_CASE(::mx::DType::kFloat32, DT, __VA_ARGS__)                                    \
    MX_TYPE_CASE(::mx::DType::kFloat64, DT, __VA_ARGS__)                                    \
    MX_TYPE_CASE(::mx::DType::kFloat16, DT, __VA_ARGS__)                                    \
    default: MX_THROW(kDType, "optimizer update: unsupported dtype ", ::mx::dtype_name(t)); \
  }

const std::vector<DType> kOptTypes = {DType::kFloat32, DType::kFloat64, DType::kFloat16};

// Clip to [-c, c] when c >= 0 (NaN passes through, as in MXNet).
template <typename A>
inline A clip_to(A x, A c) {
  // Branch-free (c < 0: no clipping), so the element loops vectorise.
  const A lo = x < -c ? -c : x;
  const A cl = lo > c ? c : lo;
  return c < A(0) ? x : cl;
}

template <typename A>
inline A sign_of(A x) {
  return x > A(0) ? A(1) : (x < A(0) ? A(-1) : A(0));
}

// ------------------------------------------------------------------ inference
// The first `n` inputs and the output share one shape; a mismatch names both inputs.
void same_shape_n(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out, int n) {
  const auto& names = p.op().input_names();
  int ref = -1;
  for (int i = 0; i < n; ++i) {
    const Shape& s = (*in)[i];
    if (!shape_known(s)) continue;
    if (ref < 0) {
      ref = i;
      continue;
    }
    MX_CHECK(s == (*in)[ref], kShape, "operator ", p.op().name(), ": input '", names[i], "' has shape ",
             s.str(), " but '", names[ref], "' has shape ", (*in)[ref].str(), " (they must match)");
  }
  Shape s = ref >= 0 ? (*in)[ref] : (*out)[0];
  if (!shape_known(s)) return;
  if (shape_known((*out)[0]))
    MX_CHECK((*out)[0] == s, kShape, "operator ", p.op().name(), ": output has shape ", (*out)[0].str(),
             " but '", names[0], "' has shape ", s.str());
  for (int i = 0; i < n; ++i)
    if (!shape_known((*in)[i])) (*in)[i] = s;
  (*out)[0] = s;
}

// Shape check for an input that holds one scalar value (r1, r2, rescale_grad).
void check_scalar_input(const Params& p, const std::vector<Shape>& in, int i) {
  const Shape& s = in[i];
  if (!shape_known(s)) return;
  MX_CHECK(s.size() == 1, kShape, "operator ", p.op().name(), ": input '", p.op().input_names()[i],
           "' must hold exactly one value (shape (1,)), got shape ", s.str());
}

InferShapeFn elemwise_shape(int n) {
  return [n](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) { same_shape_n(p, in, out, n); };
}

// ------------------------------------------------------------------ kernels
struct Common {
  double lr, wd, rescale, clip;
};

Common common_params(const Params& p) {
  Common c;
  c.lr = p.has("lr") ? p.get_float("lr") : 0.0;
  c.wd = p.has("wd") ? p.get_float("wd") : 0.0;
  c.rescale = p.has("rescale_grad") ? p.get_float("rescale_grad") : 1.0;
  c.clip = p.has("clip_gradient") ? p.get_float("clip_gradient") : -1.0;
  return c;
}

template <typename T>
const T* cptr(const TBlob& b) {
  return static_cast<const T*>(b.data);
}
template <typename T>
T* mptr(const TBlob& b) {
  return static_cast<T*>(b.data);
}

// Runs f(i) for every element of the weight, in parallel for large arrays.
template <typename F>
void for_each(int64_t n, F&& f) {
  parallel_range(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) f(i);
  });
}

// sgd_update: w = (1 - lr*wd)*w - lr*clip(rescale*grad)
void sgd_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const Common c = common_params(p);
  MX_OPT_DTYPE_SWITCH(in[0].dtype, T, {
    using A = typename AccType<T>::type;
    const T* w = cptr<T>(in[0]);
    const T* g = cptr<T>(in[1]);
    T* o = mptr<T>(out[0]);
    const A lr = A(c.lr), wd = A(c.wd), rs = A(c.rescale), cl = A(c.clip);
    for_each(in[0].size(), [=](int64_t i) {
      const A wi = A(w[i]);
      o[i] = T((A(1) - lr * wd) * wi - lr * clip_to(rs * A(g[i]), cl));
    });
  });
}

// sgd_mom_update: mom = momentum*mom - lr*wd*w - lr*clip(rescale*grad); w = w + mom
void sgd_mom_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const Common c = common_params(p);
  const double mu = p.get_float("momentum");
  MX_OPT_DTYPE_SWITCH(in[0].dtype, T, {
    using A = typename AccType<T>::type;
    const T* w = cptr<T>(in[0]);
    const T* g = cptr<T>(in[1]);
    T* m = mptr<T>(in[2]);
    T* o = mptr<T>(out[0]);
    const A lr = A(c.lr), wd = A(c.wd), rs = A(c.rescale), cl = A(c.clip), mom = A(mu);
    // Captured by value: copies the compiler knows no store aliases (so the loop vectorises).
    parallel_range(in[0].size(), [=](int64_t b, int64_t e) {
      if (cl < A(0)) {
        for (int64_t i = b; i < e; ++i) {
          const A wi = A(w[i]);
          const T mi = T(mom * A(m[i]) - lr * wd * wi - lr * (rs * A(g[i])));
          m[i] = mi;
          o[i] = T(wi + A(mi));
        }
      } else {
        for (int64_t i = b; i < e; ++i) {
          const A wi = A(w[i]);
          const T mi = T(mom * A(m[i]) - lr * wd * wi - lr * clip_to(rs * A(g[i]), cl));
          m[i] = mi;
          o[i] = T(wi + A(mi));
        }
      }
    });
  });
}

// nag_mom_update: G = clip(rescale*grad) + wd*w; m1 = momentum*mom; mom = m1 - lr*G;
// w = w - m1 + (momentum + 1)*mom
void nag_mom_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const Common c = common_params(p);
  const double mu = p.get_float("momentum");
  MX_OPT_DTYPE_SWITCH(in[0].dtype, T, {
    using A = typename AccType<T>::type;
    const T* w = cptr<T>(in[0]);
    const T* g = cptr<T>(in[1]);
    T* m = mptr<T>(in[2]);
    T* o = mptr<T>(out[0]);
    const A lr = A(c.lr), wd = A(c.wd), rs = A(c.rescale), cl = A(c.clip), mom = A(mu);
    for_each(in[0].size(), [=](int64_t i) {
      const A wi = A(w[i]);
      const A G = clip_to(rs * A(g[i]), cl) + wd * wi;
      const A m1 = mom * A(m[i]);
      const A mn = m1 - lr * G;
      o[i] = T(wi - m1 + (mom + A(1)) * mn);
      m[i] = T(mn);
    });
  });
}

// adam_update: G = clip(rescale*grad + wd*w); mean = b1*mean + (1-b1)*G; var = b2*var + (1-b2)*G^2;
// w = w - lr*mean/(sqrt(var) + epsilon)
void adam_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const Common c = common_params(p);
  const double b1d = p.get_float("beta1"), b2d = p.get_float("beta2"), epsd = p.get_float("epsilon");
  MX_OPT_DTYPE_SWITCH(in[0].dtype, T, {
    using A = typename AccType<T>::type;
    const T* w = cptr<T>(in[0]);
    const T* g = cptr<T>(in[1]);
    T* mean = mptr<T>(in[2]);
    T* var = mptr<T>(in[3]);
    T* o = mptr<T>(out[0]);
    const A lr = A(c.lr), wd = A(c.wd), rs = A(c.rescale), cl = A(c.clip);
    const A b1 = A(b1d), b2 = A(b2d), eps = A(epsd);
    for_each(in[0].size(), [=](int64_t i) {
      const A wi = A(w[i]);
      const A G = clip_to(rs * A(g[i]) + wd * wi, cl);
      const T mt = T(b1 * A(mean[i]) + (A(1) - b1) * G);
      const T vt = T(b2 * A(var[i]) + (A(1) - b2) * G * G);
      mean[i] = mt;
      var[i] = vt;
      o[i] = T(wi - lr * A(mt) / (std::sqrt(A(vt)) + eps));
    });
  });
}

// _adamw_update: scale = rescale_grad[0]; a NaN, Inf or 0 scale skips the update (the weight is
// passed through, mean and var are left alone). G = clip(scale*grad); mean/var as adam;
// w = w - eta*(lr*mean/(sqrt(var) + epsilon) + wd*w)
void adamw_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const Common c = common_params(p);
  const double b1d = p.get_float("beta1"), b2d = p.get_float("beta2"), epsd = p.get_float("epsilon");
  const double etad = p.get_float("eta");
  const TBlob& sb = in[4];
  MX_CHECK(sb.dtype == DType::kFloat32, kDType, "_adamw_update: rescale_grad must be float32, got ",
           dtype_name(sb.dtype));
  MX_CHECK(sb.size() >= 1, kShape, "_adamw_update: rescale_grad is empty");
  const float scale = *static_cast<const float*>(sb.data);
  if (!std::isfinite(scale) || scale == 0.0f) {
    if (out[0].data != in[0].data) std::memcpy(out[0].data, in[0].data, in[0].nbytes());
    return;
  }
  MX_OPT_DTYPE_SWITCH(in[0].dtype, T, {
    using A = typename AccType<T>::type;
    const T* w = cptr<T>(in[0]);
    const T* g = cptr<T>(in[1]);
    T* mean = mptr<T>(in[2]);
    T* var = mptr<T>(in[3]);
    T* o = mptr<T>(out[0]);
    const A lr = A(c.lr), wd = A(c.wd), rs = A(scale), cl = A(c.clip);
    const A b1 = A(b1d), b2 = A(b2d), eps = A(epsd), eta = A(etad);
    for_each(in[0].size(), [=](int64_t i) {
      const A wi = A(w[i]);
      const A G = clip_to(rs * A(g[i]), cl);
      const T mt = T(b1 * A(mean[i]) + (A(1) - b1) * G);
      const T vt = T(b2 * A(var[i]) + (A(1) - b2) * G * G);
      mean[i] = mt;
      var[i] = vt;
      o[i] = T(wi - eta * (lr * A(mt) / (std::sqrt(A(vt)) + eps) + wd * wi));
    });
  });
}

// rmsprop_update: G = clip(rescale*grad + wd*w); n = (1-gamma1)*G^2 + gamma1*n;
// w = w - lr*G/sqrt(n + epsilon), then clipped to [-clip_weights, clip_weights] when >= 0
void rmsprop_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const Common c = common_params(p);
  const double g1d = p.get_float("gamma1"), epsd = p.get_float("epsilon"), cwd = p.get_float("clip_weights");
  MX_OPT_DTYPE_SWITCH(in[0].dtype, T, {
    using A = typename AccType<T>::type;
    const T* w = cptr<T>(in[0]);
    const T* g = cptr<T>(in[1]);
    T* n = mptr<T>(in[2]);
    T* o = mptr<T>(out[0]);
    const A lr = A(c.lr), wd = A(c.wd), rs = A(c.rescale), cl = A(c.clip);
    const A g1 = A(g1d), eps = A(epsd), cw = A(cwd);
    for_each(in[0].size(), [=](int64_t i) {
      const A wi = A(w[i]);
      const A G = clip_to(rs * A(g[i]) + wd * wi, cl);
      const T nt = T((A(1) - g1) * G * G + g1 * A(n[i]));
      n[i] = nt;
      o[i] = T(clip_to(wi - lr * (G / std::sqrt(A(nt) + eps)), cw));
    });
  });
}

// rmspropalex_update: G = clip(rescale*grad + wd*w); n = (1-g1)*G^2 + g1*n; gs = (1-g1)*G + g1*gs;
// delta = g2*delta - lr*G/sqrt(n - gs^2 + epsilon); w = clip_weights(w + delta)
void rmspropalex_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const Common c = common_params(p);
  const double g1d = p.get_float("gamma1"), g2d = p.get_float("gamma2"), epsd = p.get_float("epsilon");
  const double cwd = p.get_float("clip_weights");
  MX_OPT_DTYPE_SWITCH(in[0].dtype, T, {
    using A = typename AccType<T>::type;
    const T* w = cptr<T>(in[0]);
    const T* g = cptr<T>(in[1]);
    T* n = mptr<T>(in[2]);
    T* gs = mptr<T>(in[3]);
    T* delta = mptr<T>(in[4]);
    T* o = mptr<T>(out[0]);
    const A lr = A(c.lr), wd = A(c.wd), rs = A(c.rescale), cl = A(c.clip);
    const A g1 = A(g1d), g2 = A(g2d), eps = A(epsd), cw = A(cwd);
    for_each(in[0].size(), [=](int64_t i) {
      const A wi = A(w[i]);
      const A G = clip_to(rs * A(g[i]) + wd * wi, cl);
      const T nt = T((A(1) - g1) * G * G + g1 * A(n[i]));
      const T gt = T((A(1) - g1) * G + g1 * A(gs[i]));
      const A gta = A(gt);
      const T dt = T(g2 * A(delta[i]) - lr * G / std::sqrt(A(nt) - gta * gta + eps));
      n[i] = nt;
      gs[i] = gt;
      delta[i] = dt;
      o[i] = T(clip_to(wi + A(dt), cw));
    });
  });
}

// ftrl_update (inputs weight, grad, z, n): G = clip(rescale*grad);
// z += G - (sqrt(n + G^2) - sqrt(n))*w/lr; n += G^2;
// w = (sign(z)*lamda1 - z) / ((beta + sqrt(n))/lr + wd) * (|z| > lamda1)
void ftrl_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const Common c = common_params(p);
  const double l1d = p.get_float("lamda1"), betad = p.get_float("beta");
  MX_OPT_DTYPE_SWITCH(in[0].dtype, T, {
    using A = typename AccType<T>::type;
    const T* w = cptr<T>(in[0]);
    const T* g = cptr<T>(in[1]);
    T* z = mptr<T>(in[2]);
    T* n = mptr<T>(in[3]);
    T* o = mptr<T>(out[0]);
    const A lr = A(c.lr), wd = A(c.wd), rs = A(c.rescale), cl = A(c.clip);
    const A l1 = A(l1d), beta = A(betad);
    for_each(in[0].size(), [=](int64_t i) {
      const A wi = A(w[i]);
      const A G = clip_to(rs * A(g[i]), cl);
      const A ni = A(n[i]);
      const T zt = T(A(z[i]) + G - (std::sqrt(ni + G * G) - std::sqrt(ni)) * wi / lr);
      const T nt = T(ni + G * G);
      z[i] = zt;
      n[i] = nt;
      const A za = A(zt);
      const A keep = std::abs(za) > l1 ? A(1) : A(0);
      o[i] = T((sign_of(za) * l1 - za) / ((beta + std::sqrt(A(nt))) / lr + wd) * keep);
    });
  });
}

// _sparse_adagrad_update (inputs weight, grad, history): G = clip(rescale*grad); history += G^2;
// w = w - lr*G/sqrt(history + epsilon). MXNet runs it for row_sparse gradients; a dense gradient
// is the case where every row is present. Like MXNet it refuses wd != 0.
void adagrad_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const Common c = common_params(p);
  MX_CHECK(c.wd == 0.0, kUnsupported, "_sparse_adagrad_update: wd is not supported (got wd=", c.wd,
           "); apply weight decay to the gradient instead");
  const double epsd = p.get_float("epsilon");
  MX_OPT_DTYPE_SWITCH(in[0].dtype, T, {
    using A = typename AccType<T>::type;
    const T* w = cptr<T>(in[0]);
    const T* g = cptr<T>(in[1]);
    T* h = mptr<T>(in[2]);
    T* o = mptr<T>(out[0]);
    const A lr = A(c.lr), rs = A(c.rescale), cl = A(c.clip), eps = A(epsd);
    for_each(in[0].size(), [=](int64_t i) {
      const A G = clip_to(rs * A(g[i]), cl);
      const T ht = T(A(h[i]) + G * G);
      h[i] = ht;
      o[i] = T(A(w[i]) - lr * (G / std::sqrt(A(ht) + eps)));
    });
  });
}

// lamb_update_phase1: G = clip(rescale*grad); mean/var as adam; the output is the update direction
// g = mean_hat/(sqrt(var_hat) + epsilon) + wd*w, with mean_hat = mean/(1-beta1^t) and
// var_hat = var/(1-beta2^t) when bias_correction (else mean and var themselves).
void lamb1_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const Common c = common_params(p);
  const double b1d = p.get_float("beta1"), b2d = p.get_float("beta2"), epsd = p.get_float("epsilon");
  const int64_t t = p.get_int("t");
  const bool bc = p.get_bool("bias_correction");
  MX_OPT_DTYPE_SWITCH(in[0].dtype, T, {
    using A = typename AccType<T>::type;
    const T* w = cptr<T>(in[0]);
    const T* g = cptr<T>(in[1]);
    T* mean = mptr<T>(in[2]);
    T* var = mptr<T>(in[3]);
    T* o = mptr<T>(out[0]);
    const A wd = A(c.wd), rs = A(c.rescale), cl = A(c.clip);
    const A b1 = A(b1d), b2 = A(b2d), eps = A(epsd);
    const A c1 = bc ? A(1) - A(std::pow(b1d, double(t))) : A(1);
    const A c2 = bc ? A(1) - A(std::pow(b2d, double(t))) : A(1);
    for_each(in[0].size(), [=](int64_t i) {
      const A G = clip_to(rs * A(g[i]), cl);
      const T mt = T(b1 * A(mean[i]) + (A(1) - b1) * G);
      const T vt = T(b2 * A(var[i]) + (A(1) - b2) * G * G);
      mean[i] = mt;
      var[i] = vt;
      o[i] = T((A(mt) / c1) / (std::sqrt(A(vt) / c2) + eps) + wd * A(w[i]));
    });
  });
}

// lamb_update_phase2 (inputs weight, g, r1, r2): r1 is clamped to [lower_bound, upper_bound]
// (each bound only when >= 0); lr' = lr*r1/r2, or lr when r1 or r2 is 0; w = w - lr'*g.
void lamb2_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const double lrd = p.get_float("lr"), lo = p.get_float("lower_bound"), hi = p.get_float("upper_bound");
  MX_OPT_DTYPE_SWITCH(in[0].dtype, T, {
    using A = typename AccType<T>::type;
    const T* w = cptr<T>(in[0]);
    const T* g = cptr<T>(in[1]);
    A r1 = A(cptr<T>(in[2])[0]);
    const A r2 = A(cptr<T>(in[3])[0]);
    T* o = mptr<T>(out[0]);
    if (lo >= 0 && r1 < A(lo)) r1 = A(lo);
    if (hi >= 0 && r1 > A(hi)) r1 = A(hi);
    A lr = A(lrd);
    if (!(r1 == A(0) || r2 == A(0))) lr = lr * r1 / r2;
    for_each(in[0].size(), [=](int64_t i) { o[i] = T(A(w[i]) - lr * A(g[i])); });
  });
}

// multi_sum_sq: out[k] = sum(array_k ** 2), float32.
void multi_sum_sq_cpu(const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  float* o = mptr<float>(out[0]);
  const int64_t k = static_cast<int64_t>(in.size());
  parallel_range(
      k,
      [&](int64_t b, int64_t e) {
        for (int64_t a = b; a < e; ++a) {
          double s = 0.0;
          MX_OPT_DTYPE_SWITCH(in[a].dtype, T, {
            const T* x = cptr<T>(in[a]);
            const int64_t n = in[a].size();
            for (int64_t i = 0; i < n; ++i) {
              const double v = double(static_cast<typename AccType<T>::type>(x[i]));
              s += v * v;
            }
          });
          o[a] = static_cast<float>(s);
        }
      },
      1);
}

// ------------------------------------------------------------------ registration helpers
const char* kWdDoc =
    "Weight decay augments the objective function with a regularization term that penalizes large "
    "weights. The penalty scales with the square of the magnitude of each weight.";
const char* kRescaleDoc = "Rescale gradient to grad = rescale_grad*grad.";
const char* kClipDoc =
    "Clip gradient to the range of [-clip_gradient, clip_gradient] If clip_gradient <= 0, gradient "
    "clipping is turned off. grad = max(min(grad, clip_gradient), -clip_gradient).";
const char* kClipWeightsDoc =
    "Clip weights to the range of [-clip_weights, clip_weights] If clip_weights <= 0, weight "
    "clipping is turned off. weights = max(min(weights, clip_weights), -clip_weights).";

void adamw_type(const Params& p, std::vector<DType>* in, std::vector<DType>* out) {
  DType& s = (*in)[4];
  if (s == kUnknownDType) s = DType::kFloat32;
  MX_CHECK(s == DType::kFloat32, kDType, "operator ", p.op().name(),
           ": input 'rescale_grad' must be float32, got ", dtype_name(s));
  std::vector<DType> head(in->begin(), in->begin() + 4);
  infer_same_type(p, &head, out);
  std::copy(head.begin(), head.end(), in->begin());
}

void adamw_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  same_shape_n(p, in, out, 4);
  check_scalar_input(p, *in, 4);
}

void lamb2_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  same_shape_n(p, in, out, 2);
  check_scalar_input(p, *in, 2);
  check_scalar_input(p, *in, 3);
}

// Checked at invoke time (not only in the kernel, whose errors surface at the next wait).
void adagrad_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const double wd = p.get_float("wd");
  MX_CHECK(wd == 0.0, kUnsupported, "_sparse_adagrad_update: wd is not supported (got wd=", wd,
           "); apply weight decay to the gradient instead");
  same_shape_n(p, in, out, 3);
}

void multi_sum_sq_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const int64_t k = p.get_int("num_arrays");
  MX_CHECK(k >= 1, kInvalidArgument, "multi_sum_sq: num_arrays must be at least 1, got ", k);
  (*out)[0] = Shape({k});
}

void multi_sum_sq_type(const Params& p, std::vector<DType>* in, std::vector<DType>* out) {
  std::vector<DType> none;
  infer_same_type(p, in, &none);
  (*out)[0] = DType::kFloat32;
}

}  // namespace

// gradient: see libmx/op/grad/ (none yet where no file there names this op) (updates are not differentiated)
MX_REGISTER_OP(sgd_update)
    .describe("Update function for Stochastic Gradient Descent (SGD) optimizer: "
              "weight = (1 - lr*wd)*weight - lr*clip(rescale_grad*grad). Returns the new weight "
              "(pass out=weight to update in place).")
    .category("optimizer")
    .input("weight").input("grad")
    .param_float("lr", OpDef::kRequired, "Learning rate")
    .param_float("wd", "0", kWdDoc)
    .param_float("rescale_grad", "1", kRescaleDoc)
    .param_float("clip_gradient", "-1", kClipDoc)
    .param_bool("lazy_update", "True", "If true, lazy updates are applied if gradient's stype is row_sparse.")
    .infer_shape(elemwise_shape(2))
    .dtypes(kOptTypes)
    .inplace({{0, 0}})
    .differentiable(false)
    .cpu(sgd_cpu);

MX_REGISTER_OP(sgd_mom_update)
    .describe("Momentum update for SGD: mom = momentum*mom - lr*wd*weight - lr*clip(rescale_grad*grad); "
              "weight += mom. mom is updated in place; returns the new weight.")
    .category("optimizer")
    .input("weight").input("grad").input("mom")
    .param_float("lr", OpDef::kRequired, "Learning rate")
    .param_float("momentum", "0", "The decay rate of momentum estimates at each epoch.")
    .param_float("wd", "0", kWdDoc)
    .param_float("rescale_grad", "1", kRescaleDoc)
    .param_float("clip_gradient", "-1", kClipDoc)
    .param_bool("lazy_update", "True",
                "If true, lazy updates are applied if gradient's stype is row_sparse and both weight "
                "and momentum have the same stype")
    .infer_shape(elemwise_shape(3))
    .dtypes(kOptTypes)
    .mutate_inputs({2})
    .inplace({{0, 0}})
    .differentiable(false)
    .cpu(sgd_mom_cpu);

MX_REGISTER_OP(nag_mom_update)
    .describe("Update function for Nesterov Accelerated Gradient (NAG) optimizer: "
              "G = clip(rescale_grad*grad) + wd*weight; mom = momentum*mom - lr*G; "
              "weight += momentum*mom - lr*G. mom is updated in place; returns the new weight.")
    .category("optimizer")
    .input("weight").input("grad").input("mom")
    .param_float("lr", OpDef::kRequired, "Learning rate")
    .param_float("momentum", "0", "The decay rate of momentum estimates at each epoch.")
    .param_float("wd", "0", kWdDoc)
    .param_float("rescale_grad", "1", kRescaleDoc)
    .param_float("clip_gradient", "-1", kClipDoc)
    .infer_shape(elemwise_shape(3))
    .dtypes(kOptTypes)
    .mutate_inputs({2})
    .inplace({{0, 0}})
    .differentiable(false)
    .cpu(nag_mom_cpu);

MX_REGISTER_OP(adam_update)
    .describe("Update function for Adam optimizer: g = clip(rescale_grad*grad + wd*weight); "
              "mean = beta1*mean + (1-beta1)*g; var = beta2*var + (1-beta2)*g^2; "
              "weight -= lr*mean/(sqrt(var) + epsilon). mean and var are updated in place.")
    .category("optimizer")
    .input("weight").input("grad").input("mean").input("var")
    .param_float("lr", OpDef::kRequired, "Learning rate")
    .param_float("beta1", "0.9", "The decay rate for the 1st moment estimates.")
    .param_float("beta2", "0.999", "The decay rate for the 2nd moment estimates.")
    .param_float("epsilon", "1e-08", "A small constant for numerical stability.")
    .param_float("wd", "0", kWdDoc)
    .param_float("rescale_grad", "1", kRescaleDoc)
    .param_float("clip_gradient", "-1", kClipDoc)
    .param_bool("lazy_update", "True",
                "If true, lazy updates are applied if gradient's stype is row_sparse and all of w, m "
                "and v have the same stype")
    .infer_shape(elemwise_shape(4))
    .dtypes(kOptTypes)
    .mutate_inputs({2, 3})
    .inplace({{0, 0}})
    .differentiable(false)
    .cpu(adam_cpu);

MX_REGISTER_OP(_adamw_update)
    .describe("Update function for AdamW optimizer (decoupled weight decay): g = clip(rescale_grad*grad); "
              "mean = beta1*mean + (1-beta1)*g; var = beta2*var + (1-beta2)*g^2; "
              "weight -= eta*(lr*mean/(sqrt(var) + epsilon) + wd*weight). rescale_grad is a float32 "
              "array; if it is NaN, Inf or 0 the update is skipped.")
    .category("optimizer")
    .input("weight").input("grad").input("mean").input("var").input("rescale_grad")
    .param_float("lr", OpDef::kRequired, "Learning rate")
    .param_float("beta1", "0.9", "The decay rate for the 1st moment estimates.")
    .param_float("beta2", "0.999", "The decay rate for the 2nd moment estimates.")
    .param_float("epsilon", "1e-08", "A small constant for numerical stability.")
    .param_float("wd", "0", kWdDoc)
    .param_float("eta", OpDef::kRequired, "Learning rate schedule multiplier")
    .param_float("clip_gradient", "-1", kClipDoc)
    .infer_shape(adamw_shape)
    .infer_type(adamw_type)
    .dtypes(kOptTypes)
    .mutate_inputs({2, 3})
    .inplace({{0, 0}})
    .differentiable(false)
    .cpu(adamw_cpu);

MX_REGISTER_OP(rmsprop_update)
    .describe("Update function for RMSProp optimizer (Tieleman & Hinton): g = clip(rescale_grad*grad + "
              "wd*weight); n = (1-gamma1)*g^2 + gamma1*n; weight -= lr*g/sqrt(n + epsilon). n is "
              "updated in place.")
    .category("optimizer")
    .input("weight").input("grad").input("n")
    .param_float("lr", OpDef::kRequired, "Learning rate")
    .param_float("gamma1", "0.95", "The decay rate of momentum estimates.")
    .param_float("epsilon", "1e-08", "A small constant for numerical stability.")
    .param_float("wd", "0", kWdDoc)
    .param_float("rescale_grad", "1", kRescaleDoc)
    .param_float("clip_gradient", "-1", kClipDoc)
    .param_float("clip_weights", "-1", kClipWeightsDoc)
    .infer_shape(elemwise_shape(3))
    .dtypes(kOptTypes)
    .mutate_inputs({2})
    .inplace({{0, 0}})
    .differentiable(false)
    .cpu(rmsprop_cpu);

MX_REGISTER_OP(rmspropalex_update)
    .describe("Update function for RMSPropAlex optimizer (Graves 2013): n, g and delta are updated in "
              "place; weight += delta.")
    .category("optimizer")
    .input("weight").input("grad").input("n").input("g").input("delta")
    .param_float("lr", OpDef::kRequired, "Learning rate")
    .param_float("gamma1", "0.95", "Decay rate.")
    .param_float("gamma2", "0.9", "Decay rate.")
    .param_float("epsilon", "1e-08", "A small constant for numerical stability.")
    .param_float("wd", "0", kWdDoc)
    .param_float("rescale_grad", "1", kRescaleDoc)
    .param_float("clip_gradient", "-1", kClipDoc)
    .param_float("clip_weights", "-1", kClipWeightsDoc)
    .infer_shape(elemwise_shape(5))
    .dtypes(kOptTypes)
    .mutate_inputs({2, 3, 4})
    .inplace({{0, 0}})
    .differentiable(false)
    .cpu(rmspropalex_cpu);

MX_REGISTER_OP(ftrl_update)
    .describe("Update function for Ftrl optimizer: z += g - (sqrt(n + g^2) - sqrt(n))*weight/lr; "
              "n += g^2; weight = (sign(z)*lamda1 - z)/((beta + sqrt(n))/lr + wd)*(|z| > lamda1). "
              "z and n are updated in place.")
    .category("optimizer")
    .input("weight").input("grad").input("z").input("n")
    .param_float("lr", OpDef::kRequired, "Learning rate")
    .param_float("lamda1", "0.01", "The L1 regularization coefficient.")
    .param_float("beta", "1", "Per-Coordinate Learning Rate beta.")
    .param_float("wd", "0", kWdDoc)
    .param_float("rescale_grad", "1", kRescaleDoc)
    .param_float("clip_gradient", "-1", kClipDoc)
    .infer_shape(elemwise_shape(4))
    .dtypes(kOptTypes)
    .mutate_inputs({2, 3})
    .inplace({{0, 0}})
    .differentiable(false)
    .cpu(ftrl_cpu);

MX_REGISTER_OP(_sparse_adagrad_update)
    .describe("Update function for AdaGrad optimizer: history += g^2; weight -= lr*g/sqrt(history + "
              "epsilon), g = clip(rescale_grad*grad). history is updated in place. wd must be 0.")
    .category("optimizer")
    .input("weight").input("grad").input("history")
    .param_float("lr", OpDef::kRequired, "Learning rate")
    .param_float("epsilon", "1e-07", "epsilon")
    .param_float("wd", "0", "weight decay")
    .param_float("rescale_grad", "1", kRescaleDoc)
    .param_float("clip_gradient", "-1", kClipDoc)
    .infer_shape(adagrad_shape)
    .dtypes(kOptTypes)
    .mutate_inputs({2})
    .inplace({{0, 0}})
    .differentiable(false)
    .cpu(adagrad_cpu);

MX_REGISTER_OP(lamb_update_phase1)
    .describe("Phase I of the LAMB update: updates mean and var in place and returns the update "
              "direction g = mean_hat/(sqrt(var_hat) + epsilon) + wd*weight.")
    .category("optimizer")
    .input("weight").input("grad").input("mean").input("var")
    .param_float("beta1", "0.9", "The decay rate for the 1st moment estimates.")
    .param_float("beta2", "0.999", "The decay rate for the 2nd moment estimates.")
    .param_float("epsilon", "1e-06", "A small constant for numerical stability.")
    .param_int("t", OpDef::kRequired, "Index update count.")
    .param_bool("bias_correction", "True", "Whether to use bias correction.")
    .param_float("wd", OpDef::kRequired, kWdDoc)
    .param_float("rescale_grad", "1", kRescaleDoc)
    .param_float("clip_gradient", "-1", kClipDoc)
    .infer_shape(elemwise_shape(4))
    .dtypes(kOptTypes)
    .mutate_inputs({2, 3})
    .differentiable(false)
    .cpu(lamb1_cpu);

MX_REGISTER_OP(lamb_update_phase2)
    .describe("Phase II of the LAMB update: weight -= lr*(r1/r2)*g with r1 = ||weight|| clamped to "
              "[lower_bound, upper_bound] (when >= 0) and r2 = ||g|| (lr unscaled when r1 or r2 is 0).")
    .category("optimizer")
    .input("weight").input("g").input("r1").input("r2")
    .param_float("lr", OpDef::kRequired, "Learning rate")
    .param_float("lower_bound", "-1", "Lower limit of norm of weight. If lower_bound <= 0, Lower limit is not set")
    .param_float("upper_bound", "-1", "Upper limit of norm of weight. If upper_bound <= 0, Upper limit is not set")
    .infer_shape(lamb2_shape)
    .dtypes(kOptTypes)
    .inplace({{0, 0}})
    .differentiable(false)
    .cpu(lamb2_cpu);

MX_REGISTER_OP(multi_sum_sq)
    .describe("Compute the sums of squares of multiple arrays: a float32 array of shape (num_arrays,).")
    .category("optimizer")
    .variadic_input("data", "num_arrays")
    .param_int("num_arrays", OpDef::kRequired, "number of input arrays.")
    .infer_shape(multi_sum_sq_shape)
    .infer_type(multi_sum_sq_type)
    .dtypes(kOptTypes)
    .differentiable(false)
    .cpu(multi_sum_sq_cpu);

}  // namespace mx
