// oneDNN fast paths (see dnnl_ops.h). The only file that includes the oneDNN headers.
#include "kernels/cpu/dnnl/dnnl_ops.h"

#ifndef MX_USE_DNNL

namespace mx {
namespace dnnl {
const char* library_info() { return "none"; }
bool enabled() { return false; }
bool try_conv_forward(const ConvShape&, const TBlob&, const TBlob&, const TBlob*, const TBlob&) { return false; }
bool try_conv_backward_data(const ConvShape&, const TBlob&, const TBlob&, const TBlob&) { return false; }
bool try_conv_backward_weight(const ConvShape&, const TBlob&, const TBlob&, const TBlob&) { return false; }
bool try_pool_forward(const PoolSetup&, const TBlob&, const TBlob&) { return false; }
bool try_sgemm(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t, float,
               float*, int64_t) {
  return false;
}
}  // namespace dnnl
}  // namespace mx

#else

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#ifdef MX_USE_OPENMP
#include <omp.h>
#endif

#include "base/error.h"
#include "op/kernel_util.h"

#if DNNL_VERSION_MAJOR < 3
#error "MX needs oneDNN 3.x (the v3 C++ API)"
#endif

namespace mx {
namespace dnnl {
namespace {

namespace dd = ::dnnl;
using md = dd::memory::desc;
using dims = dd::memory::dims;
using dt = dd::memory::data_type;
using tag = dd::memory::format_tag;

dd::engine& cpu_engine() {
  static dd::engine eng(dd::engine::kind::cpu, 0);
  return eng;
}

// oneDNN's OpenMP runtime sizes its parallel regions by omp_get_max_threads() of the calling thread
// (at primitive creation and execution): make that MX's intra-op thread count for the call.
class ThreadScope {
 public:
  ThreadScope() {
#ifdef MX_USE_OPENMP
    prev_ = omp_get_max_threads();
    want_ = num_threads();
    if (want_ != prev_) omp_set_num_threads(want_);
#endif
  }
  ~ThreadScope() {
#ifdef MX_USE_OPENMP
    if (want_ != prev_) omp_set_num_threads(prev_);
#endif
  }
  int threads() const { return want_; }

 private:
  int prev_ = 1, want_ = 1;
};

// One argument of a cached primitive: the caller's plain (C-order) layout and the layout the
// primitive wants; when they differ a cached reorder converts on the way in or out.
struct Arg {
  int id;
  md user, want;
  bool output;
  bool same;
  dd::primitive conv;
};

struct Entry {
  dd::primitive prim;
  std::vector<Arg> args;
  md scratchpad;
};

// Every primitive takes its scratch memory from the caller (kept per thread in run()), so no
// primitive depends on oneDNN's library-managed scratchpad.
const dd::primitive_attr& attr() {
  static const dd::primitive_attr a = [] {
    dd::primitive_attr r;
    r.set_scratchpad_mode(dd::scratchpad_mode::user);
    return r;
  }();
  return a;
}

class Cache {
 public:
  std::shared_ptr<Entry> get(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : it->second;
  }
  void put(const std::string& key, std::shared_ptr<Entry> e) {
    std::lock_guard<std::mutex> lock(mu_);
    if (map_.size() > 4096) map_.clear();  // a bound for programs that see endless new shapes
    map_[key] = std::move(e);
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Entry>> map_;
};

Cache& cache() {
  static Cache c;
  return c;
}

// Builds an entry for pd: spec lists (arg id, the caller's layout, whether it is written).
template <typename Prim, typename PD>
std::shared_ptr<Entry> make_entry(const PD& pd, const std::vector<std::tuple<int, md, bool>>& spec) {
  auto e = std::make_shared<Entry>();
  e->prim = Prim(pd);
  e->scratchpad = pd.scratchpad_desc();
  for (const auto& s : spec) {
    Arg a{std::get<0>(s), std::get<1>(s), pd.query_md(dd::query::exec_arg_md, std::get<0>(s)), std::get<2>(s),
          false, dd::primitive()};
    a.same = a.want == a.user;
    if (!a.same) {
      auto& eng = cpu_engine();
      dd::reorder::primitive_desc rpd =
          a.output ? dd::reorder::primitive_desc(eng, a.want, eng, a.user) : dd::reorder::primitive_desc(eng, a.user, eng, a.want);
      a.conv = dd::reorder(rpd);
    }
    e->args.push_back(std::move(a));
  }
  return e;
}

// Buffers for the primitives' own layouts and scratchpads, kept per thread and reused: a fresh
// allocation per call would page-fault its way through megabytes each time. Requests above
// kKeepBytes are served once and freed after the call, so no thread holds a huge buffer forever.
constexpr size_t kKeepBytes = size_t(32) << 20;

struct AlignedFree {
  void operator()(char* p) const { ::operator delete(p, std::align_val_t(64)); }
};
using Buffer = std::unique_ptr<char, AlignedFree>;

Buffer allocate(size_t bytes) { return Buffer(static_cast<char*>(::operator new(bytes, std::align_val_t(64)))); }

class Scratch {
 public:
  void* get(size_t slot, size_t bytes, std::vector<Buffer>* once) {
    if (bytes > kKeepBytes) {
      once->push_back(allocate(bytes));
      return once->back().get();
    }
    if (slot >= bufs_.size()) bufs_.resize(slot + 1);
    Buf& b = bufs_[slot];
    if (b.bytes < bytes) {
      b.ptr = allocate(bytes);
      b.bytes = bytes;
    }
    return b.ptr.get();
  }

 private:
  struct Buf {
    Buffer ptr;
    size_t bytes = 0;
  };
  std::vector<Buf> bufs_;
};

// Runs e with the callers' buffers (in the order of e->args): inputs in another layout are
// converted first, outputs in another layout after.
void run(const Entry& e, const std::vector<void*>& ptrs) {
  thread_local Scratch scratch;
  std::vector<Buffer> once;
  try {
    auto& eng = cpu_engine();
    thread_local dd::stream strm(cpu_engine());
    std::unordered_map<int, dd::memory> args;
    std::vector<std::pair<const Arg*, dd::memory>> after;  // outputs to convert: (arg, primitive's memory)
    std::vector<dd::memory> users;
    for (size_t i = 0; i < e.args.size(); ++i) {
      const Arg& a = e.args[i];
      dd::memory user(a.user, eng, ptrs[i]);
      if (a.same) {
        args.emplace(a.id, user);
        continue;
      }
      dd::memory mine(a.want, eng, scratch.get(i, a.want.get_size(), &once));
      if (a.output) {
        after.emplace_back(&a, mine);
        users.push_back(user);
      } else {
        a.conv.execute(strm, {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, mine}});
      }
      args.emplace(a.id, mine);
    }
    if (e.scratchpad.get_size() > 0)
      args.emplace(DNNL_ARG_SCRATCHPAD,
                   dd::memory(e.scratchpad, eng, scratch.get(e.args.size(), e.scratchpad.get_size(), &once)));
    e.prim.execute(strm, args);
    for (size_t j = 0; j < after.size(); ++j)
      after[j].first->conv.execute(strm, {{DNNL_ARG_FROM, after[j].second}, {DNNL_ARG_TO, users[j]}});
    strm.wait();
  } catch (const dd::error& err) {
    MX_THROW(kInternal, "oneDNN primitive failed: ", err.what(), " (set MX_DNNL=0 to use the portable kernels)");
  }
}

bool read_enabled() {
  const char* v = std::getenv("MX_DNNL");
  if (v == nullptr || *v == '\0') return true;
  const std::string s(v);
  return !(s == "0" || s == "off" || s == "OFF" || s == "false" || s == "False");
}

bool all_f32(std::initializer_list<const TBlob*> blobs) {
  for (const TBlob* b : blobs)
    if (b && b->dtype != DType::kFloat32) return false;
  return true;
}

tag plain_tag(int ndim) {
  switch (ndim) {
    case 1: return tag::a;
    case 2: return tag::ab;
    case 3: return tag::abc;
    case 4: return tag::abcd;
    case 5: return tag::abcde;
    case 6: return tag::abcdef;
    default: return tag::undef;
  }
}

md plain(const dims& d) { return md(d, dt::f32, plain_tag(static_cast<int>(d.size()))); }

dims spatial(const int64_t* v, int nd) { return dims(v + 3 - nd, v + 3); }

void append(std::string* key, const dims& d) {
  for (auto x : d) {
    *key += std::to_string(x);
    *key += ',';
  }
  *key += '|';
}

// ------------------------------------------------------------------ convolution
struct ConvDims {
  dims src, wei, dst, bias, strides, dilates, pad_l, pad_r;
};

bool conv_dims(const ConvShape& cs, ConvDims* d) {
  const SpatialGeom& g = cs.g;
  const int nd = g.nd;
  if (nd < 1 || nd > 3 || cs.N <= 0 || cs.C <= 0 || cs.F <= 0 || cs.G <= 0) return false;
  if (cs.C % cs.G || cs.F % cs.G) return false;
  d->src = {cs.N, cs.C};
  d->dst = {cs.N, cs.F};
  for (int i = 3 - nd; i < 3; ++i) {
    if (g.in[i] <= 0 || g.out[i] <= 0) return false;
    d->src.push_back(g.in[i]);
    d->dst.push_back(g.out[i]);
  }
  if (cs.G > 1) d->wei = {cs.G, cs.F / cs.G, cs.C / cs.G};
  else d->wei = {cs.F, cs.C};
  for (int i = 3 - nd; i < 3; ++i) d->wei.push_back(g.k[i]);
  d->bias = {cs.F};
  d->strides = spatial(g.s, nd);
  d->dilates.clear();
  d->pad_l = spatial(g.p, nd);
  d->pad_r.clear();
  for (int i = 3 - nd; i < 3; ++i) {
    d->dilates.push_back(g.d[i] - 1);  // oneDNN counts the gaps: 0 is a dense kernel
    // The right padding that makes the last window end where the output says; it can be smaller
    // than the left one. MXNet floors the output size: input columns past the last window are never
    // read, and oneDNN floors the same way, so a right padding of 0 covers them.
    const int64_t pr = (g.out[i] - 1) * g.s[i] + g.dilated(i) - g.in[i] - g.p[i];
    d->pad_r.push_back(std::max<int64_t>(pr, 0));
  }
  return true;
}

std::string conv_key(const char* op, const ConvDims& d, bool bias, int threads) {
  std::string key(op);
  key += bias ? "+b|" : "|";
  for (const dims* v : {&d.src, &d.wei, &d.dst, &d.strides, &d.dilates, &d.pad_l, &d.pad_r}) append(&key, *v);
  key += std::to_string(threads);
  return key;
}

dd::convolution_forward::primitive_desc conv_fwd_pd(const ConvDims& d, bool bias, dd::prop_kind pk) {
  // Layouts left to oneDNN: its direct kernels want channel-blocked data (a plain output would
  // make it pick its im2col + GEMM kernel, 3-4x slower here); run() converts.
  const md any_src(d.src, dt::f32, tag::any), any_wei(d.wei, dt::f32, tag::any), any_dst(d.dst, dt::f32, tag::any);
  if (bias)
    return dd::convolution_forward::primitive_desc(cpu_engine(), pk, dd::algorithm::convolution_direct, any_src,
                                                   any_wei, plain(d.bias), any_dst, d.strides, d.dilates, d.pad_l,
                                                   d.pad_r, attr());
  return dd::convolution_forward::primitive_desc(cpu_engine(), pk, dd::algorithm::convolution_direct, any_src,
                                                 any_wei, any_dst, d.strides, d.dilates, d.pad_l, d.pad_r, attr());
}

// Looks up or creates the entry for key with build(); a primitive oneDNN refuses is remembered as
// such (a null entry) so the portable kernel takes it without asking again.
template <typename Build>
std::shared_ptr<Entry> lookup(const std::string& key, Build&& build) {
  static std::mutex refused_mu;
  static std::unordered_map<std::string, bool> refused;
  if (auto e = cache().get(key)) return e;
  {
    std::lock_guard<std::mutex> lock(refused_mu);
    if (refused.count(key)) return nullptr;
  }
  std::shared_ptr<Entry> e;
  try {
    e = build();
  } catch (const dd::error&) {
    e = nullptr;
  }
  if (e) {
    cache().put(key, e);
  } else {
    std::lock_guard<std::mutex> lock(refused_mu);
    if (refused.size() > 4096) refused.clear();
    refused[key] = true;
  }
  return e;
}

}  // namespace

const char* library_info() {
  static const std::string info = [] {
    const dd::version_t* v = dd::version();
    return "onednn " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) +
#if DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
           " (openmp)";
#elif DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_TBB
           " (tbb)";
#else
           " (other)";
#endif
  }();
  return info.c_str();
}

bool enabled() {
  static const bool on = read_enabled();
  return on;
}

namespace {
std::shared_ptr<Entry> conv_fwd_entry(const ConvDims& d, bool bias, int threads) {
  return lookup(conv_key("conv_fwd", d, bias, threads), [&] {
    auto pd = conv_fwd_pd(d, bias, dd::prop_kind::forward_inference);
    std::vector<std::tuple<int, md, bool>> spec{{DNNL_ARG_SRC, plain(d.src), false},
                                                {DNNL_ARG_WEIGHTS, plain(d.wei), false},
                                                {DNNL_ARG_DST, plain(d.dst), true}};
    if (bias) spec.emplace_back(DNNL_ARG_BIAS, plain(d.bias), false);
    return make_entry<dd::convolution_forward>(pd, spec);
  });
}

// Per-thread bytes of blocked output that a chunk of samples may take: the chunk's output is
// reordered to the caller's layout while it is still in cache.
constexpr int64_t kChunkBytesPerThread = int64_t(1) << 20;
}  // namespace

bool try_conv_forward(const ConvShape& cs, const TBlob& x, const TBlob& w, const TBlob* b, const TBlob& y) {
  if (!enabled() || !all_f32({&x, &w, b, &y})) return false;
  ConvDims d;
  if (!conv_dims(cs, &d)) return false;
  ThreadScope ts;
  const bool bias = b != nullptr;
  auto e = conv_fwd_entry(d, bias, ts.threads());
  if (!e) return false;
  // The fastest kernels write a channel-blocked output. Converting a whole batch afterwards streams
  // it through memory twice; chunks of samples small enough to stay in cache avoid that.
  const Arg& dst = e->args[2];
  const int64_t per_sample = static_cast<int64_t>(dst.want.get_size()) / cs.N;
  const int64_t chunk = std::max<int64_t>(1, kChunkBytesPerThread * ts.threads() / std::max<int64_t>(per_sample, 1));
  const int64_t sx = x.size() / cs.N, sy = y.size() / cs.N;
  if (dst.same || chunk >= cs.N || sx * cs.N != x.size()) {
    std::vector<void*> ptrs{x.data, w.data, y.data};
    if (b) ptrs.push_back(b->data);
    run(*e, ptrs);
    return true;
  }
  const int64_t rest = cs.N % chunk;
  ConvDims dc = d, dr = d;
  dc.src[0] = dc.dst[0] = chunk;
  dr.src[0] = dr.dst[0] = rest;
  auto ec = conv_fwd_entry(dc, bias, ts.threads());
  auto er = rest ? conv_fwd_entry(dr, bias, ts.threads()) : ec;
  if (!ec || !er) return false;
  for (int64_t n0 = 0; n0 < cs.N; n0 += chunk) {
    const Entry& ee = cs.N - n0 >= chunk ? *ec : *er;
    std::vector<void*> ptrs{x.ptr<float>() + n0 * sx, w.data, y.ptr<float>() + n0 * sy};
    if (b) ptrs.push_back(b->data);
    run(ee, ptrs);
  }
  return true;
}

// With a few image channels per group (a network's first layer) oneDNN pads them to a block of 16
// and its gradients lose to the portable GEMMs (data gradient 14.5 ms vs 6.2 ms, weight gradient no
// faster, for 32x3x56x56 -> 64, 3x3 on 2 cores). Depthwise (one channel per group) stays with oneDNN.
bool few_channels(const ConvShape& cs) {
  const int64_t cg = cs.G > 0 ? cs.C / cs.G : 0;
  return cg > 1 && cg < 16;
}

bool try_conv_backward_data(const ConvShape& cs, const TBlob& dy, const TBlob& w, const TBlob& dx) {
  if (!enabled() || !all_f32({&dy, &w, &dx}) || few_channels(cs)) return false;
  ConvDims d;
  if (!conv_dims(cs, &d)) return false;
  ThreadScope ts;
  auto e = lookup(conv_key("conv_bwd_data", d, false, ts.threads()), [&] {
    auto hint = conv_fwd_pd(d, false, dd::prop_kind::forward_training);
    dd::convolution_backward_data::primitive_desc pd(
        cpu_engine(), dd::algorithm::convolution_direct, md(d.src, dt::f32, tag::any), md(d.wei, dt::f32, tag::any),
        md(d.dst, dt::f32, tag::any), d.strides, d.dilates, d.pad_l, d.pad_r, hint, attr());
    return make_entry<dd::convolution_backward_data>(pd, {{DNNL_ARG_DIFF_DST, plain(d.dst), false},
                           {DNNL_ARG_WEIGHTS, plain(d.wei), false},
                           {DNNL_ARG_DIFF_SRC, plain(d.src), true}});
  });
  if (!e) return false;
  run(*e, {dy.data, w.data, dx.data});
  return true;
}

bool try_conv_backward_weight(const ConvShape& cs, const TBlob& dy, const TBlob& x, const TBlob& dw) {
  if (!enabled() || !all_f32({&dy, &x, &dw}) || few_channels(cs)) return false;
  ConvDims d;
  if (!conv_dims(cs, &d)) return false;
  ThreadScope ts;
  auto e = lookup(conv_key("conv_bwd_weight", d, false, ts.threads()), [&] {
    auto hint = conv_fwd_pd(d, false, dd::prop_kind::forward_training);
    dd::convolution_backward_weights::primitive_desc pd(
        cpu_engine(), dd::algorithm::convolution_direct, md(d.src, dt::f32, tag::any), md(d.wei, dt::f32, tag::any),
        md(d.dst, dt::f32, tag::any), d.strides, d.dilates, d.pad_l, d.pad_r, hint, attr());
    return make_entry<dd::convolution_backward_weights>(pd, {{DNNL_ARG_DIFF_DST, plain(d.dst), false},
                           {DNNL_ARG_SRC, plain(d.src), false},
                           {DNNL_ARG_DIFF_WEIGHTS, plain(d.wei), true}});
  });
  if (!e) return false;
  run(*e, {dy.data, x.data, dw.data});
  return true;
}

// ------------------------------------------------------------------ pooling
bool try_pool_forward(const PoolSetup& ps, const TBlob& x, const TBlob& y) {
  if (!enabled() || !all_f32({&x, &y})) return false;
  if (ps.type != PoolType::kMax && ps.type != PoolType::kAvg) return false;
  const SpatialGeom& g = ps.g;
  const int nd = g.nd;
  if (nd < 1 || nd > 3 || x.ndim() != nd + 2 || x.size() == 0 || y.size() == 0) return false;
  dims src{x.shape[0], x.shape[1]}, dst{x.shape[0], x.shape[1]}, kernel, strides, pad_l, pad_r;
  for (int i = 3 - nd; i < 3; ++i) {
    src.push_back(g.in[i]);
    dst.push_back(g.out[i]);
    kernel.push_back(g.k[i]);
    strides.push_back(g.s[i]);
    pad_l.push_back(g.p[i]);
    // MXNet clips a window at in + pad; oneDNN's windows are whole inside [-pad_l, in + pad_r).
    // The right padding that holds the last window: beyond pad only under the full/same conventions.
    const int64_t need = (g.out[i] - 1) * g.s[i] + g.k[i] - g.in[i] - g.p[i];
    const int64_t pr = std::max<int64_t>(need, g.p[i]);
    // Avg counting padding divides by the clipped window in MXNet, by the whole kernel in oneDNN:
    // they agree only when no window passes in + pad.
    if (need > g.p[i] && ps.type == PoolType::kAvg && ps.include_pad) return false;
    // Windows lying wholly in the padding, or padding as wide as the kernel: left to the portable kernel.
    if (g.p[i] >= g.k[i] || pr >= g.k[i] || (g.out[i] - 1) * g.s[i] - g.p[i] >= g.in[i]) return false;
    pad_r.push_back(pr);
  }
  const dd::algorithm alg = ps.type == PoolType::kMax ? dd::algorithm::pooling_max
                            : ps.include_pad           ? dd::algorithm::pooling_avg_include_padding
                                                       : dd::algorithm::pooling_avg_exclude_padding;
  ThreadScope ts;
  std::string key = "pool|" + std::to_string(static_cast<int>(alg)) + "|";
  for (const dims* v : {&src, &dst, &kernel, &strides, &pad_l, &pad_r}) append(&key, *v);
  key += std::to_string(ts.threads());
  auto e = lookup(key, [&] {
    const dims dil(nd, 0);
    dd::pooling_forward::primitive_desc pd(cpu_engine(), dd::prop_kind::forward_inference, alg, plain(src),
                                           plain(dst), strides, kernel, dil, pad_l, pad_r, attr());
    return make_entry<dd::pooling_forward>(pd, {{DNNL_ARG_SRC, plain(src), false}, {DNNL_ARG_DST, plain(dst), true}});
  });
  if (!e) return false;
  run(*e, {x.data, y.data});
  return true;
}

// ------------------------------------------------------------------ GEMM
// Below this M*N*K the call overhead of oneDNN's GEMM outweighs its speed (measured: 64x10x256).
constexpr double kDnnlGemmMinMNK = 1 << 17;

bool try_sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (!enabled()) return false;
  if (static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K) < kDnnlGemmMinMNK) return false;
  ThreadScope ts;
  const dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, alpha, A, std::max<int64_t>(lda, 1), B,
                                      std::max<int64_t>(ldb, 1), beta, C, std::max<int64_t>(ldc, 1));
  return st == dnnl_success;
}

}  // namespace dnnl
}  // namespace mx

#endif  // MX_USE_DNNL
