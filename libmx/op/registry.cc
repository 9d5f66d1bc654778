// Op registry storage, fluent registration, parameter parsing and the common inference helpers.
#include "op/registry.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <unordered_map>

#include "base/error.h"

namespace mx {
namespace {

struct Registry {
  std::vector<std::unique_ptr<OpDef>> ops;
  // A registration mistake (a name used twice) found at load time. Throwing during static
  // initialisation would abort the process, so it is kept and reported on first use instead.
  std::string load_error;
  std::vector<std::pair<std::string, GradFn>> pending_grads;
  std::unordered_map<std::string, OpDef*> by_name;
  std::vector<std::string> names;
  std::once_flag frozen;
};

Registry& registry() {
  static Registry* r = new Registry();
  return *r;
}

void ensure_frozen() {
  Registry& r = registry();
  std::call_once(r.frozen, [&r] {
    for (auto& g : r.pending_grads) {
      auto it = r.by_name.find(g.first);
      if (it == r.by_name.end()) r.load_error += "gradient for unknown operator '" + g.first + "'; ";
      else if (it->second->grad_fn()) r.load_error += "operator '" + g.first + "' has two gradients; ";
      else it->second->gradient(std::move(g.second));
    }
    r.pending_grads.clear();
    for (auto& op : r.ops) op->freeze();
    for (auto& kv : r.by_name) r.names.push_back(kv.first);
    std::sort(r.names.begin(), r.names.end());
  });
  MX_CHECK(r.load_error.empty(), kInternal, "the op registry is inconsistent: ", r.load_error);
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string unquote(const std::string& raw) {
  std::string s = trim(raw);
  if (s.size() >= 2 && ((s.front() == '\'' && s.back() == '\'') || (s.front() == '"' && s.back() == '"')))
    return s.substr(1, s.size() - 2);
  return s;
}

bool is_none_text(const std::string& s) { return s == "None" || s == "none"; }

bool parse_int_text(const std::string& raw, int64_t* out) {
  std::string s = trim(raw);
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno == 0 && *end == 0) {
    *out = v;
    return true;
  }
  // Accept integral floats written as "3.0" or "1e3" (Python sometimes formats ints this way).
  errno = 0;
  double d = std::strtod(s.c_str(), &end);
  if (errno == 0 && *end == 0 && d == static_cast<double>(static_cast<int64_t>(d)) && d > -9.2e18 && d < 9.2e18) {
    *out = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

bool parse_float_text(const std::string& raw, double* out) {
  std::string s = trim(raw);
  if (s.empty()) return false;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (*end != 0) return false;
  *out = v;
  return true;
}

bool parse_bool_text(const std::string& raw, bool* out) {
  std::string s = unquote(raw);
  if (s == "True" || s == "true" || s == "1") { *out = true; return true; }
  if (s == "False" || s == "false" || s == "0") { *out = false; return true; }
  return false;
}

// Splits "(a, b)" / "[a,b]" / "a" / "()" into items; false when malformed.
bool split_tuple(const std::string& raw, std::vector<std::string>* items) {
  std::string s = unquote(raw);
  if (s.empty()) return false;
  char open = s.front();
  if (open == '(' || open == '[') {
    char close = open == '(' ? ')' : ']';
    if (s.back() != close) return false;
    s = s.substr(1, s.size() - 2);
  }
  items->clear();
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      items->push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  std::string last = trim(cur);
  if (!last.empty()) items->push_back(last);
  for (auto& it : *items)
    if (it.empty()) return false;
  return true;
}

std::string kind_type_name(const ParamDef& d) {
  switch (d.kind) {
    case ParamKind::kInt: return "int";
    case ParamKind::kFloat: return "float";
    case ParamKind::kBool: return "boolean";
    case ParamKind::kShape: return "Shape(tuple)";
    case ParamKind::kFloatTuple: return "tuple of <float>";
    case ParamKind::kDType: return "{'bfloat16', 'bool', 'float16', 'float32', 'float64', 'int32', 'int64', 'int8', 'uint8'}";
    case ParamKind::kString: return "string";
    case ParamKind::kDevice: return "Context";
    case ParamKind::kEnum: {
      std::string s = "{";
      for (size_t i = 0; i < d.enum_values.size(); ++i) s += (i ? ", '" : "'") + d.enum_values[i] + "'";
      return s + "}";
    }
  }
  return "string";
}

ParamValue parse_value(const OpDef& op, const ParamDef& d, const std::string& raw) {
  ParamValue v;
  v.s = unquote(raw);
  auto bad = [&](const char* expect) {
    MX_THROW(kInvalidArgument, "operator ", op.name(), ": invalid value '", raw, "' for parameter '", d.name,
             "' (expected ", expect, ")");
  };
  if (is_none_text(v.s) && d.kind != ParamKind::kString) {
    if (!d.allow_none) bad(kind_type_name(d).c_str());
    v.is_none = true;
    return v;
  }
  switch (d.kind) {
    case ParamKind::kInt:
      if (!parse_int_text(v.s, &v.i)) bad("an integer");
      v.f = static_cast<double>(v.i);
      break;
    case ParamKind::kFloat:
      if (!parse_float_text(v.s, &v.f)) bad("a number");
      break;
    case ParamKind::kBool:
      if (!parse_bool_text(v.s, &v.b)) bad("True or False");
      break;
    case ParamKind::kShape: {
      std::vector<std::string> items;
      if (!split_tuple(v.s, &items)) bad("a tuple of integers such as (2, 3)");
      MX_CHECK(static_cast<int>(items.size()) <= Shape::kMaxDim, kInvalidArgument, "operator ", op.name(),
               ": parameter '", d.name, "' has more than ", Shape::kMaxDim, " entries");
      for (auto& it : items) {
        int64_t x;
        if (is_none_text(it)) x = kNoneDim;
        else if (!parse_int_text(it, &x)) bad("a tuple of integers such as (2, 3)");
        v.shape.push_back(x);
      }
      break;
    }
    case ParamKind::kFloatTuple: {
      std::vector<std::string> items;
      if (!split_tuple(v.s, &items)) bad("a tuple of numbers");
      for (auto& it : items) {
        double x;
        if (!parse_float_text(it, &x)) bad("a tuple of numbers");
        v.floats.push_back(x);
      }
      break;
    }
    case ParamKind::kEnum:
      if (std::find(d.enum_values.begin(), d.enum_values.end(), v.s) == d.enum_values.end())
        bad(kind_type_name(d).c_str());
      break;
    case ParamKind::kDType:
      try {
        v.dtype = parse_dtype(v.s);
      } catch (const Error&) {
        bad("a dtype name such as float32");
      }
      break;
    case ParamKind::kString:
      break;
    case ParamKind::kDevice:
      v.device = parse_device(v.s);
      break;
  }
  return v;
}

struct ParamsCache {
  std::mutex mu;
  std::unordered_map<std::string, ParamsPtr> map;
};
ParamsCache& params_cache() {
  static ParamsCache* c = new ParamsCache();
  return *c;
}

}  // namespace

// ------------------------------------------------------------------ OpDef
OpDef::OpDef(std::string name) : name_(std::move(name)) {
  dtypes_ = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16, DType::kUInt8,
             DType::kInt8,    DType::kInt32,   DType::kInt64,   DType::kBool};
}

OpDef& OpDef::describe(std::string doc) { doc_ = std::move(doc); return *this; }
OpDef& OpDef::alias(std::string name) {
  Registry& r = registry();
  if (r.by_name.count(name)) {
    r.load_error += "operator name '" + name + "' registered twice; ";
    return *this;
  }
  r.by_name[name] = this;
  aliases_.push_back(std::move(name));
  return *this;
}
OpDef& OpDef::category(std::string c) { category_ = std::move(c); return *this; }
OpDef& OpDef::input(std::string name) { inputs_.push_back(std::move(name)); return *this; }
OpDef& OpDef::variadic_input(std::string name, std::string count_param) {
  inputs_ = {std::move(name)};
  count_param_ = std::move(count_param);
  return *this;
}
OpDef& OpDef::num_inputs(CountFn fn) { inputs_fn_ = std::move(fn); return *this; }
OpDef& OpDef::num_outputs(int n) { fixed_outputs_ = n; outputs_fn_ = nullptr; return *this; }
OpDef& OpDef::num_outputs(CountFn fn) { outputs_fn_ = std::move(fn); return *this; }
OpDef& OpDef::num_visible_outputs(CountFn fn) { visible_fn_ = std::move(fn); return *this; }
OpDef& OpDef::output_names(std::vector<std::string> names) { output_names_ = std::move(names); return *this; }

OpDef& OpDef::param(ParamDef def) {
  if (def.default_value == kRequired) {
    def.required = true;
    def.default_value.clear();
  }
  if (def.default_value == "None") def.allow_none = true;
  params_.push_back(std::move(def));
  return *this;
}
static ParamDef make_def(std::string name, ParamKind kind, std::string def, std::string doc) {
  ParamDef d;
  d.name = std::move(name);
  d.kind = kind;
  d.default_value = std::move(def);
  d.doc = std::move(doc);
  return d;
}
OpDef& OpDef::param_int(std::string n, std::string def, std::string doc) { return param(make_def(n, ParamKind::kInt, def, doc)); }
OpDef& OpDef::param_float(std::string n, std::string def, std::string doc) { return param(make_def(n, ParamKind::kFloat, def, doc)); }
OpDef& OpDef::param_bool(std::string n, std::string def, std::string doc) { return param(make_def(n, ParamKind::kBool, def, doc)); }
OpDef& OpDef::param_shape(std::string n, std::string def, std::string doc) { return param(make_def(n, ParamKind::kShape, def, doc)); }
OpDef& OpDef::param_floats(std::string n, std::string def, std::string doc) { return param(make_def(n, ParamKind::kFloatTuple, def, doc)); }
OpDef& OpDef::param_enum(std::string n, std::vector<std::string> values, std::string def, std::string doc) {
  ParamDef d = make_def(n, ParamKind::kEnum, def, doc);
  d.enum_values = std::move(values);
  return param(std::move(d));
}
OpDef& OpDef::param_dtype(std::string n, std::string def, std::string doc) { return param(make_def(n, ParamKind::kDType, def, doc)); }
OpDef& OpDef::param_string(std::string n, std::string def, std::string doc) { return param(make_def(n, ParamKind::kString, def, doc)); }
OpDef& OpDef::param_device(std::string n, std::string def, std::string doc) { return param(make_def(n, ParamKind::kDevice, def, doc)); }
OpDef& OpDef::optional() {
  if (params_.empty()) {
    registry().load_error += "optional() before any parameter of " + name_ + "; ";
    return *this;
  }
  params_.back().allow_none = true;
  return *this;
}
OpDef& OpDef::infer_shape(InferShapeFn fn) { infer_shape_ = std::move(fn); return *this; }
OpDef& OpDef::infer_type(InferTypeFn fn) { infer_type_ = std::move(fn); return *this; }
OpDef& OpDef::dtypes(std::vector<DType> types) { dtypes_ = std::move(types); return *this; }
OpDef& OpDef::float_dtypes() {
  dtypes_ = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16};
  return *this;
}
OpDef& OpDef::cpu(ComputeFn fn) { cpu_ = fn; return *this; }
OpDef& OpDef::gpu(ComputeFn fn) { gpu_ = fn; return *this; }
OpDef& OpDef::mutate_inputs(std::vector<int> idx) { mutate_ = std::move(idx); return *this; }
OpDef& OpDef::inplace(std::vector<std::pair<int, int>> pairs) { inplace_ = std::move(pairs); return *this; }
OpDef& OpDef::needs_rng() { rng_ = true; return *this; }
OpDef& OpDef::differentiable(bool d) { differentiable_ = d; return *this; }
OpDef& OpDef::gradient(GradFn fn) {
  grad_ = std::move(fn);
  differentiable_ = true;
  return *this;
}
OpDef& OpDef::attr(std::string key, std::string value) {
  attrs_.emplace_back(std::move(key), std::move(value));
  return *this;
}

int OpDef::param_index(const std::string& name) const {
  for (size_t i = 0; i < params_.size(); ++i)
    if (params_[i].name == name) return static_cast<int>(i);
  return -1;
}

int OpDef::num_inputs(const Params& p) const {
  if (inputs_fn_) return inputs_fn_(p);
  if (!count_param_.empty()) return static_cast<int>(p.get_int(count_param_));
  return static_cast<int>(inputs_.size());
}
int OpDef::num_outputs(const Params& p) const { return outputs_fn_ ? outputs_fn_(p) : fixed_outputs_; }
int OpDef::num_visible_outputs(const Params& p) const {
  if (!visible_fn_) return num_outputs(p);
  const int v = visible_fn_(p), n = num_outputs(p);
  MX_CHECK(v >= 0 && v <= n, kInternal, "operator ", name_, ": ", v, " visible outputs of ", n);
  return v;
}

ComputeFn OpDef::compute(DeviceType dev) const { return dev == DeviceType::kGPU ? gpu_ : cpu_; }

const char* OpDef::attr(const std::string& key) const {
  for (auto& kv : attrs_)
    if (kv.first == key) return kv.second.c_str();
  return nullptr;
}

void OpDef::freeze() {
  for (auto& d : params_) {
    std::string t = kind_type_name(d);
    if (d.required) t += ", required";
    else t += ", optional, default=" + (d.kind == ParamKind::kString || d.kind == ParamKind::kEnum ||
                                                d.kind == ParamKind::kDType
                                            ? "'" + d.default_value + "'"
                                            : d.default_value);
    d.type_str = t;
  }
  auto set = [this](const std::string& k, const std::string& v) {
    if (!attr(k)) attrs_.emplace_back(k, v);
  };
  std::string dts;
  for (size_t i = 0; i < dtypes_.size(); ++i) dts += (i ? "," : "") + std::string(dtype_name(dtypes_[i]));
  set("dtypes", dts);
  set("num_outputs", outputs_fn_ || visible_fn_ ? std::string("variable") : std::to_string(fixed_outputs_));
  set("has_hidden_outputs", visible_fn_ ? "1" : "0");
  std::string mut;
  for (size_t i = 0; i < mutate_.size(); ++i) mut += (i ? "," : "") + std::to_string(mutate_[i]);
  set("mutate_inputs", mut);
  set("needs_rng", rng_ ? "1" : "0");
  set("differentiable", grad_ ? "1" : "0");
  std::string al;
  for (size_t i = 0; i < aliases_.size(); ++i) al += (i ? "," : "") + aliases_[i];
  set("aliases", al);
  set("category", category_);
  std::string on;
  for (size_t i = 0; i < output_names_.size(); ++i) on += (i ? "," : "") + output_names_[i];
  set("output_names", on);
  set("has_gpu_kernel", gpu_ ? "1" : "0");
}

// ------------------------------------------------------------------ registry
OpDef& register_op(const std::string& name) {
  Registry& r = registry();
  r.ops.push_back(std::make_unique<OpDef>(name));
  OpDef* op = r.ops.back().get();
  if (r.by_name.count(name)) r.load_error += "operator '" + name + "' registered twice; ";
  else r.by_name[name] = op;
  return *op;
}

int register_gradient(const std::string& name, GradFn fn) {
  registry().pending_grads.emplace_back(name, std::move(fn));
  return 0;
}

const OpDef* find_op(const std::string& name) {
  ensure_frozen();
  auto& m = registry().by_name;
  auto it = m.find(name);
  return it == m.end() ? nullptr : it->second;
}

const OpDef& get_op(const std::string& name) {
  const OpDef* op = find_op(name);
  MX_CHECK(op, kNotFound, "unknown operator '", name, "'");
  return *op;
}

const std::vector<std::string>& op_names() {
  ensure_frozen();
  return registry().names;
}

// ------------------------------------------------------------------ Params
const ParamValue& Params::value(const std::string& name) const {
  int i = op_->param_index(name);
  MX_CHECK(i >= 0, kInternal, "operator ", op_->name(), " reads undeclared parameter '", name, "'");
  return values_[i];
}
bool Params::has(const std::string& name) const { return op_->param_index(name) >= 0; }
bool Params::is_none(const std::string& name) const { return value(name).is_none; }
int64_t Params::get_int(const std::string& name) const { return value(name).i; }
double Params::get_float(const std::string& name) const { return value(name).f; }
bool Params::get_bool(const std::string& name) const { return value(name).b; }
const Shape& Params::get_shape(const std::string& name) const { return value(name).shape; }
const std::vector<double>& Params::get_floats(const std::string& name) const { return value(name).floats; }
const std::string& Params::get_string(const std::string& name) const { return value(name).s; }
DType Params::get_dtype(const std::string& name) const { return value(name).dtype; }
Device Params::get_device(const std::string& name) const { return value(name).device; }

ParamsPtr Params::parse(const OpDef& op, const std::vector<std::pair<std::string, std::string>>& kv_in) {
  std::vector<std::pair<std::string, std::string>> kv;
  kv.reserve(kv_in.size());
  for (auto& p : kv_in) {
    if (p.first.size() >= 2 && p.first[0] == '_' && p.first[1] == '_') continue;  // graph attributes
    kv.push_back(p);
  }
  std::sort(kv.begin(), kv.end());
  std::string key = op.name();
  key += '\x1f';
  for (auto& p : kv) {
    key += p.first;
    key += '\x1e';
    key += p.second;
    key += '\x1f';
  }
  ParamsCache& cache = params_cache();
  {
    std::lock_guard<std::mutex> lk(cache.mu);
    auto it = cache.map.find(key);
    if (it != cache.map.end()) return it->second;
  }
  auto p = std::make_shared<Params>();
  p->op_ = &op;
  const auto& defs = op.params();
  std::vector<bool> given(defs.size(), false);
  p->values_.resize(defs.size());
  for (size_t i = 0; i + 1 < kv.size(); ++i)
    MX_CHECK(kv[i].first != kv[i + 1].first, kInvalidArgument, "operator ", op.name(), ": parameter '",
             kv[i].first, "' given twice");
  for (auto& pr : kv) {
    int idx = op.param_index(pr.first);
    if (idx < 0) {
      std::string known;
      for (size_t i = 0; i < defs.size(); ++i) known += (i ? ", " : "") + defs[i].name;
      MX_THROW(kInvalidArgument, "operator ", op.name(), " has no parameter '", pr.first, "'",
               known.empty() ? std::string(" (it takes none)") : " (parameters: " + known + ")");
    }
    p->values_[idx] = parse_value(op, defs[idx], pr.second);
    given[idx] = true;
  }
  for (size_t i = 0; i < defs.size(); ++i) {
    if (given[i]) continue;
    MX_CHECK(!defs[i].required, kInvalidArgument, "operator ", op.name(), ": required parameter '",
             defs[i].name, "' is missing");
    p->values_[i] = parse_value(op, defs[i], defs[i].default_value);
  }
  p->key_ = key;
  p->given_ = kv;
  ParamsPtr out = p;
  std::lock_guard<std::mutex> lk(cache.mu);
  if (cache.map.size() > 8192) cache.map.clear();  // bounded: scalar params vary per call
  cache.map.emplace(key, out);
  return out;
}

ParamsPtr Params::defaults(const OpDef& op) { return parse(op, {}); }

// ------------------------------------------------------------------ writing parameter values
std::string tuple_param(const Shape& s) {
  std::string t = "(";
  for (int i = 0; i < s.ndim(); ++i) {
    if (i) t += ", ";
    t += s[i] == kNoneDim ? std::string("None") : std::to_string(s[i]);
  }
  return t + (s.ndim() == 1 ? ",)" : ")");
}

std::string float_param(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

// ------------------------------------------------------------------ inference helpers
void infer_same_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape* known = nullptr;
  int known_idx = -1;
  for (size_t i = 0; i < in->size(); ++i) {
    const Shape& s = (*in)[i];
    if (!s.known()) continue;
    if (!known) {
      known = &s;
      known_idx = static_cast<int>(i);
    } else {
      MX_CHECK(s == *known, kShape, "operator ", p.op().name(), ": input ", i, " has shape ", s.str(),
               " but input ", known_idx, " has shape ", known->str(), " (shapes must be equal)");
    }
  }
  if (!known) {
    for (auto& s : *out)
      if (s.known()) { known = &s; break; }
  }
  if (!known) return;
  Shape k = *known;
  for (auto& s : *in)
    if (!s.known()) s = k;
  for (auto& s : *out) {
    if (s.known())
      MX_CHECK(s == k, kShape, "operator ", p.op().name(), ": output shape ", s.str(), " differs from input shape ",
               k.str());
    s = k;
  }
}

void infer_same_type(const Params& p, std::vector<DType>* in, std::vector<DType>* out) {
  DType t = kUnknownDType;
  int idx = -1;
  for (size_t i = 0; i < in->size(); ++i) {
    DType d = (*in)[i];
    if (d == kUnknownDType) continue;
    if (t == kUnknownDType) {
      t = d;
      idx = static_cast<int>(i);
    } else {
      MX_CHECK(d == t, kDType, "operator ", p.op().name(), ": input ", i, " has dtype ", dtype_name(d),
               " but input ", idx, " has dtype ", dtype_name(t), " (dtypes must match)");
    }
  }
  if (t == kUnknownDType)
    for (auto d : *out)
      if (d != kUnknownDType) { t = d; break; }
  if (t == kUnknownDType) return;
  for (auto& d : *in)
    if (d == kUnknownDType) d = t;
  for (auto& d : *out) d = t;
}

void infer_broadcast_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  MX_CHECK(in->size() == 2, kInternal, "broadcast shape inference needs 2 inputs");
  const Shape& a = (*in)[0];
  const Shape& b = (*in)[1];
  if (!a.known() || !b.known()) return;
  int nd = std::max(a.ndim(), b.ndim());
  Shape o = Shape::filled(nd, 1);
  for (int i = 0; i < nd; ++i) {
    int ia = i - (nd - a.ndim()), ib = i - (nd - b.ndim());
    int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    MX_CHECK(da == db || da == 1 || db == 1, kShape, "operator ", p.op().name(), ": shapes ", a.str(), " and ",
             b.str(), " cannot be broadcast together");
    o[i] = da == 1 ? db : da;
  }
  for (auto& s : *out) s = o;
}

}  // namespace mx
