#include "op/imperative.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "autograd/autograd.h"
#include "base/random.h"
#include "engine/engine.h"
#include "op/kernel_util.h"

namespace mx {
namespace {

// ------------------------------------------------------------------ op profile
// MX_PROFILE_OPS=1: every kernel run is timed; at exit a table of the time per op (calls, total,
// mean, share) goes to stderr, largest first. For finding where a training step spends its time.
struct ProfileEntry {
  int64_t calls = 0;
  std::chrono::steady_clock::duration total{};
};
std::mutex g_profile_mu;
std::map<std::string, ProfileEntry>* g_profile = nullptr;  // leaked on purpose: read at exit

void profile_report() {
  std::lock_guard<std::mutex> lk(g_profile_mu);
  std::vector<std::pair<std::string, ProfileEntry>> rows(g_profile->begin(), g_profile->end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.total > b.second.total; });
  double all = 0;
  for (auto& r : rows) all += std::chrono::duration<double>(r.second.total).count();
  std::fprintf(stderr, "\n[mx op profile] %-32s %10s %12s %10s %7s\n", "op", "calls", "total ms", "mean us", "share");
  for (auto& r : rows) {
    const double t = std::chrono::duration<double>(r.second.total).count();
    std::fprintf(stderr, "[mx op profile] %-32s %10lld %12.3f %10.2f %6.1f%%\n", r.first.c_str(),
                 static_cast<long long>(r.second.calls), t * 1e3, t * 1e6 / static_cast<double>(r.second.calls),
                 all > 0 ? 100.0 * t / all : 0.0);
  }
}

bool profiling() {
  static const bool on = [] {
    const char* v = std::getenv("MX_PROFILE_OPS");
    if (!v || std::strcmp(v, "1") != 0) return false;
    g_profile = new std::map<std::string, ProfileEntry>();
    std::atexit(profile_report);
    return true;
  }();
  return on;
}

void profile_add(const OpDef* op, std::chrono::steady_clock::duration d) {
  std::lock_guard<std::mutex> lk(g_profile_mu);
  ProfileEntry& e = (*g_profile)[op->name()];
  ++e.calls;
  e.total += d;
}

// Everything one pushed call needs, in one allocation owned by the engine; it keeps the storage
// of its inputs and outputs alive until it has run.
struct Call final : engine::Task {
  const OpDef* op;
  ParamsPtr params;
  OpContext ctx;
  std::vector<TBlob> in, out;
  std::vector<std::shared_ptr<Storage>> keep;
  // (temporary, destination) pairs for outputs that alias an input the kernel cannot share.
  std::vector<std::pair<TBlob, TBlob>> copy_back;

  void run() override {
    if (profiling()) {
      const auto t0 = std::chrono::steady_clock::now();
      op->compute(ctx.dev.type)(ctx, *params, in, out);
      profile_add(op, std::chrono::steady_clock::now() - t0);
    } else {
      op->compute(ctx.dev.type)(ctx, *params, in, out);
    }
    for (auto& cb : copy_back) std::memcpy(cb.second.data, cb.first.data, cb.first.nbytes());
  }
  std::string describe() const override {
    std::string s = "(inputs:";
    for (size_t i = 0; i < in.size(); ++i)
      s += str(i ? ", " : " ", in[i].shape.str(), " ", dtype_name(in[i].dtype));
    if (in.empty()) s += " none";
    return s + ")";
  }
};

// Scratch vectors for inference, reused across calls on a thread (invoke does not re-enter).
struct Scratch {
  std::vector<Shape> in_s, out_s;
  std::vector<DType> in_t, out_t;
};
thread_local Scratch t_scratch;
thread_local bool t_training = false;

std::string dtype_list(const std::vector<DType>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::string(dtype_name(v[i]));
  return s;
}

}  // namespace

void invoke(const OpDef& op, const ParamsPtr& params, const std::vector<NDArray>& inputs,
            std::vector<NDArray>* outputs) {
  static const InvokeOpts kDefault;
  invoke_with(op, params, inputs, outputs, kDefault);
}

void invoke_with(const OpDef& op, const ParamsPtr& params, const std::vector<NDArray>& inputs,
                 std::vector<NDArray>* outputs, const InvokeOpts& opts) {
  const Params& p = *params;
  const bool recording = !opts.no_record && autograd::is_recording();
  MX_CHECK(&p.op() == &op, kInvalidArgument, "parameters were parsed for operator ", p.op().name(),
           ", not for ", op.name());
  const int nin = op.num_inputs(p);
  const int nout = op.num_outputs(p);
  if (static_cast<int>(inputs.size()) != nin) {
    std::string names;
    const auto& all = op.input_names();
    const size_t shown = op.key_var_num_args().empty() ? std::min(all.size(), static_cast<size_t>(nin)) : all.size();
    for (size_t i = 0; i < shown; ++i) names += (i ? ", " : "") + all[i];
    MX_THROW(kInvalidArgument, "operator ", op.name(), " expects ", nin, " input(s)",
             names.empty() ? std::string() : " (" + names + ")", ", got ", inputs.size());
  }
  MX_CHECK(static_cast<int>(outputs->size()) == nout, kInvalidArgument, "operator ", op.name(), " produces ",
           nout, " output(s), got ", outputs->size(), " output slot(s)");

  if (recording) autograd::check_inplace(op, inputs, *outputs);
  Device dev = Device::cpu();
  for (int i = 0; i < nin; ++i) {
    MX_CHECK(!inputs[i].is_none(), kInvalidArgument, "operator ", op.name(), ": input ", i, " is a none array");
    if (i == 0) dev = inputs[0].device();
    else
      MX_CHECK(inputs[i].device() == dev, kInvalidArgument, "operator ", op.name(), ": input ", i, " is on ",
               device_str(inputs[i].device()), " but input 0 is on ", device_str(dev));
  }
  if (nin == 0 && p.has("ctx") && !p.is_none("ctx")) dev = p.get_device("ctx");
  check_device(dev);
  ComputeFn fn = op.compute(dev.type);
  MX_CHECK(fn, kUnsupported, "operator ", op.name(), " has no kernel for ", device_str(dev));

  Scratch& sc = t_scratch;
  std::vector<Shape>& in_s = sc.in_s;
  std::vector<Shape>& out_s = sc.out_s;
  std::vector<DType>& in_t = sc.in_t;
  std::vector<DType>& out_t = sc.out_t;
  in_s.resize(nin);
  in_t.resize(nin);
  out_s.assign(nout, Shape::unknown());
  out_t.assign(nout, kUnknownDType);
  for (int i = 0; i < nin; ++i) {
    in_s[i] = inputs[i].shape();
    in_t[i] = inputs[i].dtype();
  }
  try {
    if (op.shape_fn()) op.shape_fn()(p, &in_s, &out_s);
    else infer_same_shape(p, &in_s, &out_s);
    if (op.type_fn()) op.type_fn()(p, &in_t, &out_t);
    else infer_same_type(p, &in_t, &out_t);
  } catch (const Error& e) {
    // Shared helpers (normalize_axis, ...) do not know the op: name it.
    if (std::string(e.what()).find(op.name()) == std::string::npos)
      throw Error(e.code(), "operator " + op.name() + ": " + e.what());
    throw;
  }
  for (int i = 0; i < nout; ++i) {
    MX_CHECK(out_s[i].known(), kInternal, "operator ", op.name(), ": could not infer the shape of output ", i);
    MX_CHECK(out_t[i] != kUnknownDType, kInternal, "operator ", op.name(), ": could not infer the dtype of output ", i);
  }
  DType compute_t = nin > 0 ? in_t[0] : out_t[0];
  const auto& sup = op.supported_dtypes();
  MX_CHECK(std::find(sup.begin(), sup.end(), compute_t) != sup.end(), kDType, "operator ", op.name(),
           " does not support dtype ", dtype_name(compute_t), " (supported: ", dtype_list(sup), ")");

  std::unique_ptr<Call> call(new Call());
  call->name = op.name().c_str();
  call->op = &op;
  call->params = params;
  call->ctx.dev = dev;
  call->ctx.is_train = opts.is_train < 0 ? t_training : opts.is_train != 0;
  if (op.uses_rng()) {
    if (opts.has_rng) {
      call->ctx.rng_seed = opts.rng_seed;
      call->ctx.rng_stream = opts.rng_stream;
    } else {
      call->ctx.rng_seed = random_seed();
      call->ctx.rng_stream = random_next_stream();
    }
    if (opts.used_rng_seed) *opts.used_rng_seed = call->ctx.rng_seed;
    if (opts.used_rng_stream) *opts.used_rng_stream = call->ctx.rng_stream;
  }
  call->in.resize(nin);
  call->out.resize(nout);
  call->keep.reserve(nin + nout);

  const int nvars_max = nin + nout;
  engine::Var* reads_buf[16];
  engine::Var* writes_buf[16];
  std::vector<engine::Var*> reads_vec, writes_vec;
  engine::Var** reads = reads_buf;
  engine::Var** writes = writes_buf;
  if (nvars_max > 16) {
    reads_vec.resize(nvars_max);
    writes_vec.resize(nvars_max);
    reads = reads_vec.data();
    writes = writes_vec.data();
  }
  int nr = 0, nw = 0;
  for (int i = 0; i < nin; ++i) {
    call->in[i] = inputs[i].blob();
    call->keep.push_back(inputs[i].storage());
    reads[nr++] = inputs[i].var();
  }
  for (int m : op.mutated_inputs()) {
    if (m < nin) writes[nw++] = inputs[m].var();
  }
  int64_t out_elems = 0;
  for (int i = 0; i < nout; ++i) {
    NDArray& o = (*outputs)[i];
    if (o.is_none()) {
      o = NDArray(out_s[i], dev, out_t[i]);
      call->held_bytes += out_s[i].size() * static_cast<int64_t>(dtype_size(out_t[i]));
    } else {
      MX_CHECK(o.shape() == out_s[i], kShape, "operator ", op.name(), ": output ", i, " has shape ",
               o.shape().str(), " but the op produces ", out_s[i].str());
      MX_CHECK(o.dtype() == out_t[i], kDType, "operator ", op.name(), ": output ", i, " has dtype ",
               dtype_name(o.dtype()), " but the op produces ", dtype_name(out_t[i]));
      MX_CHECK(o.device() == dev, kInvalidArgument, "operator ", op.name(), ": output ", i, " is on ",
               device_str(o.device()), " but the op runs on ", device_str(dev));
    }
    TBlob ob = o.blob();
    // An output sharing storage with an input is computed into a temporary unless the op
    // declares that exact in-place pair (and the bytes coincide).
    for (int j = 0; j < nin; ++j) {
      if (inputs[j].storage() != o.storage()) continue;
      bool declared = false;
      for (auto& pr : op.inplace_pairs())
        if (pr.first == j && pr.second == i && inputs[j].byte_offset() == o.byte_offset()) declared = true;
      if (!declared) {
        NDArray tmp(out_s[i], dev, out_t[i]);
        call->keep.push_back(tmp.storage());
        call->copy_back.emplace_back(tmp.blob(), ob);
        ob = tmp.blob();
        break;
      }
    }
    call->out[i] = ob;
    call->keep.push_back(o.storage());
    writes[nw++] = o.var();
    out_elems += out_s[i].size();
  }
  const uint64_t rng_seed = call->ctx.rng_seed, rng_stream = call->ctx.rng_stream;
  engine::push(call.release(), reads, nr, writes, nw, out_elems <= kSmallOpElements);
  if (recording) autograd::record(op, params, inputs, outputs, rng_seed, rng_stream);
}

bool set_training(bool training) {
  bool prev = t_training;
  t_training = training;
  return prev;
}

bool is_training() { return t_training; }

}  // namespace mx
