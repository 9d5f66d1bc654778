// Random ops: _random_uniform, _random_normal, _random_randint, _shuffle, _sample_multinomial.
//
// Every draw comes from philox4x32 keyed by (seed, stream) with the element index as counter, so
// a result depends only on the seed and on the order of the calls (the invoke layer reserves the
// stream when the call is made), never on threads or on the engine.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <type_traits>

#include "base/random.h"
#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

const char* const kShapeDoc = "Shape of the output.";
const char* const kCtxDoc = "Context of output, in format [cpu|gpu|cpu_pinned](n). Only used for imperative calls.";

constexpr double k2Pow24Inv = 1.0 / 16777216.0;
constexpr double k2Pow53Inv = 1.0 / 9007199254740992.0;
constexpr double kTwoPi = 6.283185307179586476925286766559;

inline uint64_t join64(uint32_t hi, uint32_t lo) { return (static_cast<uint64_t>(hi) << 32) | lo; }

// Uniform in [0, 1) with 53 random bits, for element i of a stream whose elements each use half a
// philox block (two 32-bit words).
inline double uniform53(uint64_t i, const OpContext& ctx) {
  Philox4x32 r = philox4x32(i >> 1, ctx.rng_stream, ctx.rng_seed);
  const int w = static_cast<int>(i & 1) * 2;
  return static_cast<double>(join64(r.v[w], r.v[w + 1]) >> 11) * k2Pow53Inv;
}

// The largest value of T below v (toward -inf); v must be finite.
template <typename T>
inline T step_down(T v) {
  if constexpr (std::is_same<T, float>::value || std::is_same<T, double>::value) {
    return std::nextafter(v, -std::numeric_limits<T>::infinity());
  } else {  // half_t / bf16_t: walk the 16-bit pattern
    T r = v;
    if ((v.bits & 0x7fffu) == 0) r.bits = 0x8001u;  // +-0 -> smallest negative subnormal
    else if (v.bits & 0x8000u) r.bits = static_cast<uint16_t>(v.bits + 1);
    else r.bits = static_cast<uint16_t>(v.bits - 1);
    return r;
  }
}

// low + (high - low) * u rounded to T, kept inside [low, high) when low < high (rounding to a
// short type could otherwise land on high).
template <typename T>
inline T scale_uniform(double u, double low, double high) {
  T v = static_cast<T>(static_cast<typename AccType<T>::type>(low + (high - low) * u));
  if (low < high && static_cast<double>(static_cast<typename AccType<T>::type>(v)) >= high) {
    v = step_down(v);
    if (static_cast<double>(static_cast<typename AccType<T>::type>(v)) < low)
      v = static_cast<T>(static_cast<typename AccType<T>::type>(low));
  }
  return v;
}

// The `shape` parameter of a sampling op, checked.
Shape sample_shape(const Params& p) {
  const Shape& s = p.get_shape("shape");
  for (int i = 0; i < s.ndim(); ++i)
    MX_CHECK(s[i] != kNoneDim && s[i] >= 0, kShape, "operator ", p.op().name(), ": invalid shape ",
             s[i] == kNoneDim ? std::string("with an unknown (None) dimension") : s.str(),
             " (dimensions must be known and non-negative)");
  return s;
}

// dtype "None" resolves to `fallback`; anything outside `allowed` is a kDType error.
DType sample_dtype(const Params& p, DType fallback, std::initializer_list<DType> allowed) {
  if (p.is_none("dtype")) return fallback;
  DType t = p.get_dtype("dtype");
  for (DType a : allowed)
    if (a == t) return t;
  std::string names;
  for (DType a : allowed) names += (names.empty() ? "" : ", ") + std::string(dtype_name(a));
  MX_THROW(kDType, "operator ", p.op().name(), ": dtype ", dtype_name(t), " is not supported (supported: ", names,
           ")");
}

// ------------------------------------------------------------------ uniform
void check_uniform(const Params& p) {
  const double low = p.get_float("low"), high = p.get_float("high");
  MX_CHECK(std::isfinite(low) && std::isfinite(high), kInvalidArgument, "operator ", p.op().name(),
           ": low and high must be finite (got low=", low, ", high=", high, ")");
  MX_CHECK(low <= high, kInvalidArgument, "operator ", p.op().name(), ": low must be less than or equal to high (got low=",
           low, ", high=", high, ")");
}

void uniform_cpu(const OpContext& ctx, const Params& p, const std::vector<TBlob>&, const std::vector<TBlob>& out) {
  const double low = p.get_float("low"), high = p.get_float("high");
  const TBlob& o = out[0];
  if (o.dtype == DType::kFloat64) {
    double* d = o.ptr<double>();
    parallel_range(o.size(), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) d[i] = scale_uniform<double>(uniform53(static_cast<uint64_t>(i), ctx), low, high);
    });
    return;
  }
  // Short floats: one 32-bit word (24 random bits) per element, four elements per philox block.
  MX_FLOAT_DTYPE_SWITCH(o.dtype, DT, {
    DT* d = o.ptr<DT>();
    parallel_range(o.size(), [&](int64_t b, int64_t e) {
      Philox4x32 r{};
      for (int64_t i = b; i < e; ++i) {
        if (i == b || (i & 3) == 0) r = philox4x32(static_cast<uint64_t>(i) >> 2, ctx.rng_stream, ctx.rng_seed);
        const double u = static_cast<double>(r.v[i & 3] >> 8) * k2Pow24Inv;
        d[i] = scale_uniform<DT>(u, low, high);
      }
    });
  });
}

// ------------------------------------------------------------------ normal
void check_normal(const Params& p) {
  const double loc = p.get_float("loc"), scale = p.get_float("scale");
  MX_CHECK(std::isfinite(loc) && std::isfinite(scale), kInvalidArgument, "operator ", p.op().name(),
           ": loc and scale must be finite (got loc=", loc, ", scale=", scale, ")");
  MX_CHECK(scale >= 0.0, kInvalidArgument, "operator ", p.op().name(), ": scale must be non-negative, got ", scale);
}

void normal_cpu(const OpContext& ctx, const Params& p, const std::vector<TBlob>&, const std::vector<TBlob>& out) {
  const double loc = p.get_float("loc"), scale = p.get_float("scale");
  const TBlob& o = out[0];
  // Box-Muller: elements 2j and 2j+1 share philox block j (two 53-bit uniforms) and take the
  // cosine and sine branches.
  MX_FLOAT_DTYPE_SWITCH(o.dtype, DT, {
    DT* d = o.ptr<DT>();
    parallel_range(o.size(), [&](int64_t b, int64_t e) {
      double z[2] = {0.0, 0.0};
      for (int64_t i = b; i < e; ++i) {
        if (i == b || (i & 1) == 0) {
          Philox4x32 r = philox4x32(static_cast<uint64_t>(i) >> 1, ctx.rng_stream, ctx.rng_seed);
          const double u1 = 1.0 - static_cast<double>(join64(r.v[0], r.v[1]) >> 11) * k2Pow53Inv;  // (0, 1]
          const double u2 = static_cast<double>(join64(r.v[2], r.v[3]) >> 11) * k2Pow53Inv;
          const double rad = std::sqrt(-2.0 * std::log(u1));
          z[0] = rad * std::cos(kTwoPi * u2);
          z[1] = rad * std::sin(kTwoPi * u2);
        }
        d[i] = static_cast<DT>(static_cast<typename AccType<DT>::type>(loc + scale * z[i & 1]));
      }
    });
  });
}

// ------------------------------------------------------------------ randint
void check_randint(const Params& p, DType t) {
  const int64_t low = p.get_int("low"), high = p.get_int("high");
  MX_CHECK(low < high, kInvalidArgument, "operator ", p.op().name(), ": high must be greater than low (got low=", low,
           ", high=", high, ")");
  if (t == DType::kInt32)
    MX_CHECK(low >= std::numeric_limits<int32_t>::min() && high - 1 <= std::numeric_limits<int32_t>::max(),
             kInvalidArgument, "operator ", p.op().name(), ": the range [", low, ", ", high,
             ") does not fit dtype int32 (use dtype int64)");
}

void randint_cpu(const OpContext& ctx, const Params& p, const std::vector<TBlob>&, const std::vector<TBlob>& out) {
  const int64_t low = p.get_int("low"), high = p.get_int("high");
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  const TBlob& o = out[0];
  auto draw = [&](uint64_t i) -> int64_t {
    Philox4x32 r = philox4x32(i >> 1, ctx.rng_stream, ctx.rng_seed);
    const int w = static_cast<int>(i & 1) * 2;
    // Multiply-shift maps 64 random bits onto [0, range) (bias below range / 2^64).
    const uint64_t x = join64(r.v[w], r.v[w + 1]);
    const uint64_t k = static_cast<uint64_t>((static_cast<unsigned __int128>(x) * range) >> 64);
    return static_cast<int64_t>(static_cast<uint64_t>(low) + k);
  };
  if (o.dtype == DType::kInt64) {
    int64_t* d = o.ptr<int64_t>();
    parallel_range(o.size(), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) d[i] = draw(static_cast<uint64_t>(i));
    });
  } else if (o.dtype == DType::kInt32) {
    int32_t* d = o.ptr<int32_t>();
    parallel_range(o.size(), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) d[i] = static_cast<int32_t>(draw(static_cast<uint64_t>(i)));
    });
  } else {
    MX_THROW(kDType, "operator _random_randint: dtype ", dtype_name(o.dtype), " is not supported");
  }
}

// ------------------------------------------------------------------ shuffle
void shuffle_cpu(const OpContext& ctx, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  const TBlob& y = out[0];
  if (x.size() == 0) return;
  if (x.ndim() == 0) {
    std::memcpy(y.data, x.data, x.nbytes());
    return;
  }
  const int64_t n = x.shape[0];
  const size_t row = x.nbytes() / static_cast<size_t>(n);
  // Fisher-Yates over the row indices: the number of draws depends on n, so one sequential stream.
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), int64_t(0));
  RandomStream rs(ctx.rng_seed, ctx.rng_stream);
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = static_cast<int64_t>(rs.below(static_cast<uint64_t>(i) + 1));
    std::swap(perm[static_cast<size_t>(i)], perm[static_cast<size_t>(j)]);
  }
  const char* src = static_cast<const char*>(x.data);
  char* dst = static_cast<char*>(y.data);
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / static_cast<int64_t>(std::max<size_t>(row, 1)));
  parallel_range(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      std::memcpy(dst + static_cast<size_t>(i) * row, src + static_cast<size_t>(perm[static_cast<size_t>(i)]) * row, row);
  }, grain);
}

// ------------------------------------------------------------------ multinomial
DType multinomial_dtype(const Params& p) {
  return sample_dtype(p, DType::kInt32,
                      {DType::kUInt8, DType::kInt32, DType::kInt64, DType::kFloat16, DType::kFloat32, DType::kFloat64});
}

void multinomial_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!shape_known(d)) return;
  const std::string& name = p.op().name();
  MX_CHECK(d.ndim() >= 1, kShape, "operator ", name, ": data must have at least one axis (the categories), got shape ",
           d.str());
  const int64_t k = d.back();
  MX_CHECK(k >= 1, kShape, "operator ", name, ": data has no categories (last axis of shape ", d.str(), " is 0)");
  if (multinomial_dtype(p) == DType::kUInt8)
    MX_CHECK(k <= 256, kInvalidArgument, "operator ", name, ": dtype uint8 cannot index ", k,
             " categories (at most 256)");
  const Shape& s = sample_shape(p);
  Shape o;
  if (d.ndim() == 1) {
    o = s.ndim() > 0 ? s : Shape{1};
  } else {
    for (int i = 0; i + 1 < d.ndim(); ++i) o.push_back(d[i]);
    for (int i = 0; i < s.ndim(); ++i) o.push_back(s[i]);
  }
  for (auto& os : *out) os = o;
}

void multinomial_cpu(const OpContext& ctx, const Params& p, const std::vector<TBlob>& in,
                     const std::vector<TBlob>& out) {
  const TBlob& data = in[0];
  const int64_t k = data.shape.back();
  const int64_t ndist = data.size() / k;
  const int64_t total = out[0].size();
  if (total == 0 || ndist == 0) return;
  const int64_t per = total / ndist;  // samples per distribution
  const bool get_prob = p.get_bool("get_prob");
  MX_FLOAT_DTYPE_SWITCH(data.dtype, PT, {
    using PA = typename AccType<PT>::type;
    const PT* prob = data.ptr<PT>();
    PT* logp = get_prob ? out[1].ptr<PT>() : nullptr;
    MX_DTYPE_SWITCH(out[0].dtype, OT, {
      OT* o = out[0].ptr<OT>();
      parallel_range(total, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          const PT* row = prob + (i / per) * k;
          const double u = uniform53(static_cast<uint64_t>(i), ctx);
          // First category whose cumulative probability exceeds u; when rounding leaves the total
          // below u, the last category with positive probability.
          double acc = 0.0;
          int64_t pick = -1, last_pos = k - 1;
          for (int64_t c = 0; c < k; ++c) {
            const double pc = static_cast<double>(static_cast<PA>(row[c]));
            if (pc > 0.0) last_pos = c;
            acc += pc;
            if (acc > u) {
              pick = c;
              break;
            }
          }
          if (pick < 0) pick = last_pos;
          o[i] = static_cast<OT>(static_cast<typename AccType<OT>::type>(pick));
          if (logp) logp[i] = static_cast<PT>(static_cast<PA>(std::log(static_cast<double>(static_cast<PA>(row[pick])))));
        }
      });
    });
  });
}

}  // namespace

// ------------------------------------------------------------------ registration
MX_REGISTER_OP(_random_uniform)
    .describe("Draws samples from a uniform distribution on [low, high).")
    .alias("uniform")
    .alias("random_uniform")
    .category("random")
    .param_float("low", "0", "Lower bound of the distribution.")
    .param_float("high", "1", "Upper bound of the distribution.")
    .param_shape("shape", "()", kShapeDoc)
    .param_device("ctx", "cpu(0)", kCtxDoc)
    .param_dtype("dtype", "None", "DType of the output in case this can't be inferred. Defaults to float32 if not defined (dtype=None).")
    .float_dtypes()
    .needs_rng()
    .infer_shape([](const Params& p, std::vector<Shape>*, std::vector<Shape>* out) {
      check_uniform(p);
      (*out)[0] = sample_shape(p);
    })
    .infer_type([](const Params& p, std::vector<DType>*, std::vector<DType>* out) {
      (*out)[0] = sample_dtype(p, DType::kFloat32, {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16});
    })
    .cpu(uniform_cpu);

MX_REGISTER_OP(_random_normal)
    .describe("Draws random samples from a normal (Gaussian) distribution with mean loc and standard deviation scale.")
    .alias("normal")
    .alias("random_normal")
    .category("random")
    .param_float("loc", "0", "Mean of the distribution.")
    .param_float("scale", "1", "Standard deviation of the distribution.")
    .param_shape("shape", "()", kShapeDoc)
    .param_device("ctx", "cpu(0)", kCtxDoc)
    .param_dtype("dtype", "None", "DType of the output in case this can't be inferred. Defaults to float32 if not defined (dtype=None).")
    .float_dtypes()
    .needs_rng()
    .infer_shape([](const Params& p, std::vector<Shape>*, std::vector<Shape>* out) {
      check_normal(p);
      (*out)[0] = sample_shape(p);
    })
    .infer_type([](const Params& p, std::vector<DType>*, std::vector<DType>* out) {
      (*out)[0] = sample_dtype(p, DType::kFloat32, {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16});
    })
    .cpu(normal_cpu);

MX_REGISTER_OP(_random_randint)
    .describe("Draws random integers from a discrete uniform distribution on [low, high).")
    .alias("randint")
    .alias("random_randint")
    .category("random")
    .param_int("low", OpDef::kRequired, "Lower bound of the distribution.")
    .param_int("high", OpDef::kRequired, "Upper bound of the distribution (excluded).")
    .param_shape("shape", "()", kShapeDoc)
    .param_device("ctx", "cpu(0)", kCtxDoc)
    .param_dtype("dtype", "None", "DType of the output in case this can't be inferred. Defaults to int32 if not defined (dtype=None).")
    .dtypes({DType::kInt32, DType::kInt64})
    .needs_rng()
    .infer_shape([](const Params& p, std::vector<Shape>*, std::vector<Shape>* out) {
      check_randint(p, sample_dtype(p, DType::kInt32, {DType::kInt32, DType::kInt64}));
      (*out)[0] = sample_shape(p);
    })
    .infer_type([](const Params& p, std::vector<DType>*, std::vector<DType>* out) {
      (*out)[0] = sample_dtype(p, DType::kInt32, {DType::kInt32, DType::kInt64});
    })
    .cpu(randint_cpu);

MX_REGISTER_OP(_shuffle)
    .describe("Randomly shuffles the elements along the first axis (the order of the rows changes, each row stays the same).")
    .alias("shuffle")
    .category("random")
    .input("data")
    .needs_rng()
    .cpu(shuffle_cpu);

MX_REGISTER_OP(_sample_multinomial)
    .describe(
        "Concurrent sampling from multiple multinomial distributions. `data` holds probabilities over its last "
        "axis (each row should sum to 1); the output has shape data.shape[:-1] + shape and holds category indices. "
        "With get_prob=True a second output holds the log probability of each sampled category.")
    .alias("sample_multinomial")
    .category("random")
    .input("data")
    .num_outputs([](const Params& p) { return p.get_bool("get_prob") ? 2 : 1; })
    .output_names({"output", "prob"})
    .param_shape("shape", "()", "Shape to be sampled from each random distribution.")
    .param_bool("get_prob", "False",
                "Whether to also return the log probability of sampled result. This is usually used for "
                "differentiating through stochastic variables, e.g. in reinforcement learning.")
    .param_dtype("dtype", "int32", "DType of the output in case this can't be inferred.")
    .float_dtypes()
    .needs_rng()
    .infer_shape(multinomial_shape)
    .infer_type([](const Params& p, std::vector<DType>* in, std::vector<DType>* out) {
      (*out)[0] = multinomial_dtype(p);
      if (out->size() > 1) (*out)[1] = (*in)[0];
    })
    .cpu(multinomial_cpu);

}  // namespace mx
