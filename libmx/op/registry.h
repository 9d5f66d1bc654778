// The operator registry: one declarative entry per op.
//
//   MX_REGISTER_OP(broadcast_add)
//       .describe("Elementwise sum with numpy-style broadcasting.")
//       .input("lhs").input("rhs")
//       .infer_shape(infer_broadcast_shape)
//       .cpu(broadcast_add_cpu);
//
// Parameters arrive as MXNet-syntax strings, are parsed once into a Params object (cached per
// distinct set), and kernels read typed values from it.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/device.h"
#include "base/dtype.h"
#include "base/shape.h"
#include "ndarray/tblob.h"
#include "op/grad.h"

namespace mx {

class OpDef;

// ------------------------------------------------------------------ parameters
enum class ParamKind {
  kInt,         // int64
  kFloat,       // double
  kBool,        // True/False/true/false/1/0
  kShape,       // "(3,3)", "[3,3]", "3", "()"; entries may be negative or None (see ParamValue)
  kFloatTuple,  // "(0.5, 1.0)"
  kEnum,        // one of enum_values
  kDType,       // dtype name
  kString,      // any text
  kDevice,      // "cpu(0)", "gpu(1)"
};

struct ParamDef {
  std::string name;
  ParamKind kind = ParamKind::kInt;
  std::string default_value;  // MXNet text of the default ("None" allowed when allow_none)
  bool required = false;
  bool allow_none = false;    // "None" is a valid value (an optional parameter)
  std::string doc;
  std::vector<std::string> enum_values;
  std::string type_str;       // as MXNet documents it: "int, optional, default='1'"
};

struct ParamValue {
  bool is_none = false;
  int64_t i = 0;
  double f = 0.0;
  bool b = false;
  Shape shape;                // kShape; an entry written "None" is stored as kNoneDim
  std::vector<double> floats; // kFloatTuple
  std::string s;              // kEnum, kString (and the raw text of every value)
  DType dtype = DType::kFloat32;
  Device device;
};

constexpr int64_t kNoneDim = INT64_MIN;

class Params {
 public:
  const OpDef& op() const { return *op_; }
  bool has(const std::string& name) const;  // the op declares this parameter
  bool is_none(const std::string& name) const;
  int64_t get_int(const std::string& name) const;
  double get_float(const std::string& name) const;
  bool get_bool(const std::string& name) const;
  const Shape& get_shape(const std::string& name) const;
  const std::vector<double>& get_floats(const std::string& name) const;
  const std::string& get_string(const std::string& name) const;  // kEnum and kString
  DType get_dtype(const std::string& name) const;
  Device get_device(const std::string& name) const;
  // Canonical "k=v;k=v" text of the explicitly given values (sorted by key): the cache key, and
  // what a graph file stores.
  const std::string& key() const { return key_; }
  const std::vector<std::pair<std::string, std::string>>& explicit_values() const { return given_; }

  // Parses keys/values against op's definitions (unknown key, bad value, missing required:
  // kInvalidArgument naming the op, the key and the value). Cached: identical sets share one object.
  static std::shared_ptr<const Params> parse(const OpDef& op, const std::vector<std::pair<std::string, std::string>>& kv);
  // The op's defaults (cached).
  static std::shared_ptr<const Params> defaults(const OpDef& op);

 private:
  friend class OpDef;
  const ParamValue& value(const std::string& name) const;
  const OpDef* op_ = nullptr;
  std::vector<ParamValue> values_;  // one per op param, in declaration order
  std::string key_;
  std::vector<std::pair<std::string, std::string>> given_;
};
using ParamsPtr = std::shared_ptr<const Params>;

// ------------------------------------------------------------------ kernels
struct OpContext {
  Device dev;
  bool is_train = false;
  // Random stream of this call (ops declared needs_rng): a counter-based generator keyed by the
  // global seed, the stream id reserved when the call was pushed.
  uint64_t rng_seed = 0;
  uint64_t rng_stream = 0;
};

// Inputs and outputs are contiguous C-order blobs. Outputs are written (not accumulated).
using ComputeFn = void (*)(const OpContext& ctx, const Params& p, const std::vector<TBlob>& in,
                           const std::vector<TBlob>& out);
// Fills out (sized num_outputs) from in (sized num_inputs). Inputs are known in imperative mode; an
// entry with ndim < 0 is unknown (graph inference), and a function may fill unknown inputs it can
// deduce. Throws kShape naming the problem.
using InferShapeFn = std::function<void(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out)>;
// Same for dtypes; DType(-1) is unknown.
using InferTypeFn = std::function<void(const Params& p, std::vector<DType>* in, std::vector<DType>* out)>;
using CountFn = std::function<int(const Params& p)>;

constexpr DType kUnknownDType = static_cast<DType>(-1);

// ------------------------------------------------------------------ op definition
class OpDef {
 public:
  static constexpr const char* kRequired = "\x01required";

  explicit OpDef(std::string name);

  // Fluent registration.
  OpDef& describe(std::string doc);
  OpDef& alias(std::string name);
  OpDef& category(std::string c);
  OpDef& input(std::string name);
  // A variable number of inputs all called `name`, counted by integer parameter `count_param`
  // (declared separately, MXNet's key_var_num_args, e.g. Concat's num_args).
  OpDef& variadic_input(std::string name, std::string count_param);
  // The number of inputs when parameters decide it (FullyConnected's no_bias drops the last
  // input): the first fn(params) of input_names() are the inputs.
  OpDef& num_inputs(CountFn fn);
  OpDef& num_outputs(int n);
  OpDef& num_outputs(CountFn fn);
  OpDef& output_names(std::vector<std::string> names);
  // Outputs past the first fn(params) are hidden: invoke allocates and autograd keeps them (an
  // op's saved intermediates, e.g. the RNN reserve), callers over the ABI never see them.
  OpDef& num_visible_outputs(CountFn fn);

  OpDef& param(ParamDef def);
  OpDef& param_int(std::string name, std::string def, std::string doc);
  OpDef& param_float(std::string name, std::string def, std::string doc);
  OpDef& param_bool(std::string name, std::string def, std::string doc);
  OpDef& param_shape(std::string name, std::string def, std::string doc);  // def may be "None"
  OpDef& param_floats(std::string name, std::string def, std::string doc);
  OpDef& param_enum(std::string name, std::vector<std::string> values, std::string def, std::string doc);
  OpDef& param_dtype(std::string name, std::string def, std::string doc);  // def may be "None"
  OpDef& param_string(std::string name, std::string def, std::string doc);
  OpDef& param_device(std::string name, std::string def, std::string doc);
  // Lets "None" be given for the most recently declared parameter.
  OpDef& optional();

  OpDef& infer_shape(InferShapeFn fn);
  OpDef& infer_type(InferTypeFn fn);
  // Dtypes the op computes in (checked against the first input, or the first output for ops with
  // no inputs). Default: all nine.
  OpDef& dtypes(std::vector<DType> types);
  OpDef& float_dtypes();  // float32, float64, float16, bfloat16
  OpDef& cpu(ComputeFn fn);
  OpDef& gpu(ComputeFn fn);
  OpDef& mutate_inputs(std::vector<int> idx);        // written in place (aux states)
  OpDef& inplace(std::vector<std::pair<int, int>> pairs);  // (input, output) may share memory
  OpDef& needs_rng();
  OpDef& differentiable(bool d);
  // The gradient as other ops (op/grad.h); makes the op differentiable.
  OpDef& gradient(GradFn fn);
  OpDef& attr(std::string key, std::string value);   // free-form, visible through mx_op_attr

  // Queries.
  const std::string& name() const { return name_; }
  const std::string& doc() const { return doc_; }
  const std::vector<std::string>& aliases() const { return aliases_; }
  const std::vector<ParamDef>& params() const { return params_; }
  int param_index(const std::string& name) const;  // -1 when absent
  const std::vector<std::string>& input_names() const { return inputs_; }
  const std::string& key_var_num_args() const { return count_param_; }
  int num_inputs(const Params& p) const;
  int num_outputs(const Params& p) const;          // all outputs, hidden ones included
  int num_visible_outputs(const Params& p) const;  // what callers see (the first ones)
  const std::vector<DType>& supported_dtypes() const { return dtypes_; }
  const std::vector<int>& mutated_inputs() const { return mutate_; }
  const std::vector<std::pair<int, int>>& inplace_pairs() const { return inplace_; }
  bool uses_rng() const { return rng_; }
  bool is_differentiable() const { return differentiable_; }
  const GradFn& grad_fn() const { return grad_; }
  ComputeFn compute(DeviceType dev) const;  // null when the device has no kernel
  const InferShapeFn& shape_fn() const { return infer_shape_; }
  const InferTypeFn& type_fn() const { return infer_type_; }
  // String facts for mx_op_attr (built at freeze time). Returns null when absent.
  const char* attr(const std::string& key) const;

  // Called once after static registration: fills type strings and the attr table.
  void freeze();

 private:
  std::string name_, doc_, category_, count_param_;
  std::vector<std::string> aliases_, inputs_, output_names_;
  std::vector<ParamDef> params_;
  int fixed_outputs_ = 1;
  CountFn outputs_fn_;
  CountFn visible_fn_;
  CountFn inputs_fn_;
  InferShapeFn infer_shape_;
  InferTypeFn infer_type_;
  std::vector<DType> dtypes_;
  ComputeFn cpu_ = nullptr, gpu_ = nullptr;
  std::vector<int> mutate_;
  std::vector<std::pair<int, int>> inplace_;
  bool rng_ = false;
  bool differentiable_ = false;
  GradFn grad_;
  std::vector<std::pair<std::string, std::string>> attrs_;
};

// Registry access.
OpDef& register_op(const std::string& name);   // at static-init time only
const OpDef* find_op(const std::string& name);  // name or alias; null when absent
const OpDef& get_op(const std::string& name);   // throws kNotFound ("unknown operator 'x'")
// Every name and alias, sorted.
const std::vector<std::string>& op_names();
// Attaches a gradient to op `name` (registered in any file; applied when the registry is first
// used, so gradients can live apart from the forward kernels). Returns 0; a use for static init.
int register_gradient(const std::string& name, GradFn fn);

// ------------------------------------------------------------------ writing parameter values
// MXNet text of a tuple ("(1, 2)", "(3,)", "()"; kNoneDim entries as None) and of a number (exact:
// 17 significant digits), for ops that call other ops (gradients, recorded views).
std::string tuple_param(const Shape& s);
std::string float_param(double v);

// ------------------------------------------------------------------ common inference helpers
// All inputs and outputs share one shape (elementwise ops). Unknown entries are filled.
void infer_same_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out);
// All inputs share one dtype; outputs take it.
void infer_same_type(const Params& p, std::vector<DType>* in, std::vector<DType>* out);
// numpy broadcasting of the two inputs.
void infer_broadcast_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out);
// Shape a ndim < 0 means unknown.
inline bool shape_known(const Shape& s) { return s.ndim() >= 0; }

}  // namespace mx

#define MX_OP_CONCAT_(a, b) a##b
#define MX_OP_CONCAT(a, b) MX_OP_CONCAT_(a, b)
// Attaches a gradient at load time: MX_REGISTER_GRADIENT(exp, [](GradBuilder& b, const GradArgs& a) {...});
#define MX_REGISTER_GRADIENT(name, ...) \
  static int MX_OP_CONCAT(mx_grad_reg_, __COUNTER__) __attribute__((unused)) = ::mx::register_gradient(#name, __VA_ARGS__)
// Registers op `name` at load time: MX_REGISTER_OP(exp).describe(...)...;
#define MX_REGISTER_OP(name) \
  static ::mx::OpDef& MX_OP_CONCAT(mx_op_reg_, __COUNTER__) __attribute__((unused)) = ::mx::register_op(#name)
