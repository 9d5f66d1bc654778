// Sequence ops of variable-length batches: SequenceMask, SequenceLast, SequenceReverse, and
// _backward_SequenceLast (the scatter that SequenceLast's gradient needs).
//
// data is (max_len, batch, ...) for axis 0 or (batch, max_len, ...) for axis 1; sequence_length
// (batch,) of any dtype gives each sequence's length (floats truncate toward zero, as MXNet casts
// them). Without use_sequence_length every sequence has max_len steps. The kernels move bytes only,
// so one code path serves every dtype.
#include <algorithm>
#include <cstdint>
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

// The layout of data: step t of sequence n starts at element (t * t_stride + n * n_stride) * inner.
struct SeqGeom {
  int axis = 0;
  int64_t T = 0, N = 0, inner = 1;
  int64_t t_stride = 0, n_stride = 0;  // in rows of `inner` elements
  int64_t row(int64_t t, int64_t n) const { return t * t_stride + n * n_stride; }
};

int seq_axis(const char* op, const Params& p, bool only_zero) {
  int64_t a = p.get_int("axis");
  if (only_zero) {
    MX_CHECK(a == 0, kUnsupported, op, ": axis=", a, " is not supported (only axis=0, as in MXNet)");
  } else {
    MX_CHECK(a == 0 || a == 1, kUnsupported, op, ": axis=", a, " is not supported (only 0 and 1, as in MXNet)");
  }
  return static_cast<int>(a);
}

SeqGeom seq_geom(const char* op, const Params& p, const Shape& d, bool only_zero) {
  SeqGeom g;
  g.axis = seq_axis(op, p, only_zero);
  MX_CHECK(d.ndim() >= 2, kShape, op, ": data must have at least 2 dims (max_len and batch), got shape ", d.str());
  g.T = d[g.axis];
  g.N = d[1 - g.axis];
  for (int i = 2; i < d.ndim(); ++i) g.inner *= d[i];
  if (g.axis == 0) {
    g.t_stride = g.N;
    g.n_stride = 1;
  } else {
    g.t_stride = 1;
    g.n_stride = g.T;
  }
  return g;
}

bool use_lengths(const Params& p) { return p.get_bool("use_sequence_length"); }

void check_lengths_shape(const char* op, const Params& p, const Shape& d, const Shape& len) {
  const int64_t batch = d[1 - static_cast<int>(p.get_int("axis"))];
  MX_CHECK(len.ndim() == 1 && len[0] == batch, kShape, op, ": sequence_length must have shape (", batch,
           ",) for data of shape ", d.str(), ", got ", len.str());
}

// Each sequence's length; max_len for all without use_sequence_length. Checks [lo, T].
std::vector<int64_t> seq_lengths(const char* op, const Params& p, const SeqGeom& g, const std::vector<TBlob>& in,
                                 int len_index, int64_t lo, bool clamp) {
  if (!use_lengths(p)) return std::vector<int64_t>(static_cast<size_t>(g.N), g.T);
  std::vector<int64_t> len = load_indices(in[len_index]);
  for (int64_t n = 0; n < g.N; ++n) {
    int64_t& l = len[n];
    if (clamp) {
      l = std::min(std::max<int64_t>(l, 0), g.T);
    } else {
      MX_CHECK(l >= lo && l <= g.T, kInvalidArgument, op, ": sequence_length[", n, "] = ",
               l == INT64_MIN ? std::string("nan/out of range") : std::to_string(l), " is outside [", lo, ", ",
               g.T, "] (max_len of data)");
    }
  }
  return len;
}

// Shape / type inference shared by all: output 0 has data's shape with `drop_axis` removed (SequenceLast).
void seq_shape(const char* op, bool drop_axis, bool only_zero, const Params& p, std::vector<Shape>* in,
               std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  SeqGeom g = seq_geom(op, p, d, only_zero);
  if (use_lengths(p)) {
    Shape& len = (*in)[1];
    if (!len.known()) len = Shape{g.N};
    check_lengths_shape(op, p, d, len);
  }
  Shape o;
  for (int i = 0; i < d.ndim(); ++i)
    if (!(drop_axis && i == g.axis)) o.push_back(d[i]);
  assign_shape(op, out, 0, o);
}

void seq_type(const Params& p, std::vector<DType>* in, std::vector<DType>* out) {
  // The lengths may have any dtype; an unknown one (graphs) takes data's, as MXNet does.
  if ((*in)[0] == kUnknownDType) (*in)[0] = (*out)[0];
  if (use_lengths(p) && in->size() > 1 && (*in)[1] == kUnknownDType) (*in)[1] = (*in)[0];
  (*out)[0] = (*in)[0];
}

int seq_num_inputs(const Params& p) { return use_lengths(p) ? 2 : 1; }

// ------------------------------------------------------------------ SequenceMask
void sequence_mask_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  if (x.size() == 0) return;
  SeqGeom g = seq_geom("SequenceMask", p, x.shape, false);
  const size_t es = dtype_size(x.dtype);
  char* o = static_cast<char*>(out[0].data);
  if (o != x.data) std::memcpy(o, x.data, x.nbytes());
  if (!use_lengths(p)) return;
  std::vector<int64_t> len = seq_lengths("SequenceMask", p, g, in, 1, 0, true);
  alignas(8) unsigned char value[16];
  scalar_to_bytes(p.get_float("value"), x.dtype, value);
  const int64_t rowb = g.inner * static_cast<int64_t>(es);
  parallel_range(g.N, [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; ++n)
      for (int64_t t = len[n]; t < g.T; ++t) {
        char* r = o + g.row(t, n) * rowb;
        for (int64_t k = 0; k < g.inner; ++k) std::memcpy(r + k * es, value, es);
      }
  }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, g.T * g.inner)));
}

// ------------------------------------------------------------------ SequenceLast
void sequence_last_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  if (out[0].size() == 0) return;
  SeqGeom g = seq_geom("SequenceLast", p, x.shape, false);
  MX_CHECK(g.T > 0, kShape, "SequenceLast: data of shape ", x.shape.str(), " has no steps to pick from");
  std::vector<int64_t> len = seq_lengths("SequenceLast", p, g, in, 1, 1, false);
  const int64_t rowb = g.inner * static_cast<int64_t>(dtype_size(x.dtype));
  const char* src = static_cast<const char*>(x.data);
  char* o = static_cast<char*>(out[0].data);
  for (int64_t n = 0; n < g.N; ++n) std::memcpy(o + n * rowb, src + g.row(len[n] - 1, n) * rowb, rowb);
}

// (ograd, data[, sequence_length]) -> zeros shaped like data, with ograd's row n at step len[n]-1.
void sequence_last_grad_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                            const std::vector<TBlob>& out) {
  const TBlob& og = in[0];
  const TBlob& o = out[0];
  std::memset(o.data, 0, o.nbytes());
  if (og.size() == 0 || o.size() == 0) return;
  SeqGeom g = seq_geom("_backward_SequenceLast", p, o.shape, false);
  std::vector<int64_t> len = seq_lengths("_backward_SequenceLast", p, g, in, 2, 1, false);
  const int64_t rowb = g.inner * static_cast<int64_t>(dtype_size(o.dtype));
  const char* src = static_cast<const char*>(og.data);
  char* dst = static_cast<char*>(o.data);
  for (int64_t n = 0; n < g.N; ++n) std::memcpy(dst + g.row(len[n] - 1, n) * rowb, src + n * rowb, rowb);
}

// ------------------------------------------------------------------ SequenceReverse
void sequence_reverse_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                          const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  if (x.size() == 0) return;
  SeqGeom g = seq_geom("SequenceReverse", p, x.shape, true);
  std::vector<int64_t> len = seq_lengths("SequenceReverse", p, g, in, 1, 0, false);
  const int64_t rowb = g.inner * static_cast<int64_t>(dtype_size(x.dtype));
  const char* src = static_cast<const char*>(x.data);
  char* o = static_cast<char*>(out[0].data);
  // Out of place only (no in-place hint): a reversal would overwrite rows it still has to read.
  parallel_range(g.T, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t)
      for (int64_t n = 0; n < g.N; ++n) {
        // Steps past a sequence's length (padding) stay where they are.
        const int64_t from = t < len[n] ? len[n] - 1 - t : t;
        std::memcpy(o + g.row(t, n) * rowb, src + g.row(from, n) * rowb, rowb);
      }
  }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, g.N * g.inner)));
}

OpDef& seq_params(OpDef& d, bool with_value, const char* axis_doc) {
  d.param_bool("use_sequence_length", "False",
               "If set to true, use the sequence_length input to determine each sequence's length; otherwise "
               "every sequence has max_len steps.");
  if (with_value) d.param_float("value", "0", "The value written to masked (out-of-length) steps.");
  d.param_int("axis", "0", axis_doc);
  return d;
}

static OpDef& seq_mask_def __attribute__((unused)) =
    seq_params(register_op("SequenceMask"), true, "The sequence axis (0 or 1).")
    .describe("Sets the steps of each sequence past its length to `value`. data is (max_len, batch, ...) for "
              "axis=0 or (batch, max_len, ...) for axis=1; sequence_length (batch,) is used when "
              "use_sequence_length=True (otherwise the output is the input).")
    .category("sequence")
    .input("data")
    .input("sequence_length")
    .num_inputs(seq_num_inputs)
    .infer_shape([](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
      seq_shape("SequenceMask", false, false, p, in, out);
    })
    .infer_type(seq_type)
    .dtypes(kAllNine)
    .inplace({{0, 0}})
    .cpu(sequence_mask_cpu);

static OpDef& seq_last_def __attribute__((unused)) =
    seq_params(register_op("SequenceLast"), false, "The sequence axis (0 or 1).")
    .describe("Takes the last valid step of each sequence: data (max_len, batch, ...) for axis=0 or "
              "(batch, max_len, ...) for axis=1 gives (batch, ...). With use_sequence_length=True step "
              "sequence_length[n]-1 of sequence n is taken (lengths must be in [1, max_len]), otherwise step "
              "max_len-1.")
    .category("sequence")
    .input("data")
    .input("sequence_length")
    .num_inputs(seq_num_inputs)
    .infer_shape([](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
      seq_shape("SequenceLast", true, false, p, in, out);
    })
    .infer_type(seq_type)
    .dtypes(kAllNine)
    .cpu(sequence_last_cpu);

static OpDef& seq_last_grad_def __attribute__((unused)) =
    seq_params(register_op("_backward_SequenceLast"), false, "The sequence axis (0 or 1).")
    .describe("Gradient of SequenceLast with respect to data: zeros shaped like data with ograd's row of each "
              "sequence placed at its last valid step.")
    .category("grad")
    .input("ograd")
    .input("data")
    .input("sequence_length")
    .num_inputs([](const Params& p) { return use_lengths(p) ? 3 : 2; })
    .infer_shape([](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape& d = (*in)[1];
      if (!d.known()) return;
      SeqGeom g = seq_geom("_backward_SequenceLast", p, d, false);
      if (use_lengths(p)) {
        Shape& len = (*in)[2];
        if (!len.known()) len = Shape{g.N};
        check_lengths_shape("_backward_SequenceLast", p, d, len);
      }
      Shape last;
      for (int i = 0; i < d.ndim(); ++i)
        if (i != g.axis) last.push_back(d[i]);
      if ((*in)[0].known())
        MX_CHECK((*in)[0] == last, kShape, "_backward_SequenceLast: ograd of shape ", (*in)[0].str(),
                 " does not match ", last.str(), " (SequenceLast of data ", d.str(), ")");
      assign_shape("_backward_SequenceLast", out, 0, d);
    })
    .infer_type([](const Params&, std::vector<DType>* in, std::vector<DType>* out) { (*out)[0] = (*in)[0]; })
    .dtypes(kAllNine)
    .cpu(sequence_last_grad_cpu);

static OpDef& seq_rev_def __attribute__((unused)) =
    seq_params(register_op("SequenceReverse"), false, "The sequence axis (only 0 is supported).")
    .describe("Reverses the first sequence_length[n] steps of each sequence n of data (max_len, batch, ...); "
              "steps past the length keep their place. Without use_sequence_length the whole time axis is "
              "reversed. Only axis=0 is supported (as in MXNet).")
    .category("sequence")
    .input("data")
    .input("sequence_length")
    .num_inputs(seq_num_inputs)
    .infer_shape([](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
      seq_shape("SequenceReverse", false, true, p, in, out);
    })
    .infer_type(seq_type)
    .dtypes(kAllNine)
    .cpu(sequence_reverse_cpu);

}  // namespace
}  // namespace mx
