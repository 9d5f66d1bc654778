// Writes mx/ops.hpp: one inline C++ function per registered op, generated from libmx's registry
// (mx_op_list / mx_op_info / mx_op_attr) at build time. Nothing here is written per op.
//
//   gen_ops <output path>
//
// For each op name (aliases included, gradient ops `_backward_*` left out) it writes
//   mx::op::<name>(NDArray inputs..., params...)          -> NDArray, or std::vector<NDArray> when the
//                                                           op has several or parameter-dependent outputs
//   mx::sym::<name>(symbol_name, Symbol inputs..., params...) -> Symbol  (and the same without symbol_name)
// Names with a prefix go to a nested namespace: _contrib_X -> op::contrib::X, _random_X ->
// op::random::X, _linalg_X -> op::linalg::X, _image_X -> op::image::X; other names starting with '_'
// go to op::internal (leading underscores dropped). Parameters follow the inputs, required ones
// first, each with the registry's default; a parameter left at its default is not sent, and one whose
// default is None takes an mx::Optional<T> that is only sent when given.
#include <mx/c_api.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

const std::set<std::string>& Keywords() {
  static const std::set<std::string> k = {
      "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case",
      "catch", "char", "char16_t", "char32_t", "class", "compl", "const", "constexpr", "const_cast",
      "continue", "decltype", "default", "delete", "do", "double", "dynamic_cast", "else", "enum",
      "explicit", "export", "extern", "false", "float", "for", "friend", "goto", "if", "inline", "int",
      "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq", "nullptr", "operator", "or",
      "or_eq", "private", "protected", "public", "register", "reinterpret_cast", "return", "short",
      "signed", "sizeof", "static", "static_assert", "static_cast", "struct", "switch", "template",
      "this", "thread_local", "throw", "true", "try", "typedef", "typeid", "typename", "union",
      "unsigned", "using", "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq",
      // names the generated code itself uses
      "op_builder_", "symbol_name", "mx", "std", "NDArray", "Symbol", "Shape", "Context", "Optional"};
  return k;
}

bool IsIdent(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

std::string Sanitize(const std::string& s) { return Keywords().count(s) ? s + "_" : s; }

void Check(int rc, const char* what) {
  if (rc != MX_OK) {
    std::fprintf(stderr, "gen_ops: %s failed: %s\n", what, mx_last_error());
    std::exit(1);
  }
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// One line of comment text: no newlines, no trailing backslash (a line continuation).
std::string CommentText(std::string s, size_t max_len) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  std::string out;
  for (char c : s) {
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out += c;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '\\')) out.pop_back();
  if (out.size() > max_len) {
    out = out.substr(0, max_len);
    while (!out.empty() && out.back() == '\\') out.pop_back();
    out += " ...";
  }
  while (!out.empty() && out.front() == ' ') out.erase(out.begin());
  return out;
}

// The first paragraph of an op's documentation.
std::string Summary(const std::string& doc) {
  size_t end = doc.find("\n\n");
  std::string first = doc.substr(0, end == std::string::npos ? doc.size() : end);
  return CommentText(first, 400);
}

enum class Kind { kInt, kFloat, kBool, kShape, kString, kContext };

struct Param {
  std::string name;   // registry name
  std::string ident;  // C++ parameter name
  Kind kind = Kind::kString;
  bool required = false;
  bool none_default = false;  // default None: an mx::Optional<T>
  std::string default_literal;  // C++ expression of the default ("" when required / None)
  std::string type_doc;
  std::string doc;
};

bool ParseInt(const std::string& s, long long* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  *v = std::strtoll(s.c_str(), &end, 10);
  return *end == '\0';
}

bool ParseFloat(const std::string& s, double* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return *end == '\0';
}

std::string FloatLiteral(double v) {
  char buf[64];
  for (int prec = 6; prec <= 17; ++prec) {  // the shortest text that reads back exactly
    std::snprintf(buf, sizeof(buf), "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

bool ParseShape(std::string s, std::string* literal) {
  if (s.size() < 2) return false;
  char open = s.front(), close = s.back();
  if (!((open == '(' && close == ')') || (open == '[' && close == ']'))) return false;
  s = s.substr(1, s.size() - 2);
  std::vector<long long> dims;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(std::remove(item.begin(), item.end(), ' '), item.end());
    item.erase(std::remove(item.begin(), item.end(), 'L'), item.end());
    if (item.empty()) continue;
    long long v;
    if (!ParseInt(item, &v)) return false;
    dims.push_back(v);
  }
  if (dims.empty()) {
    *literal = "::mx::Shape()";
    return true;
  }
  std::string lit = "::mx::Shape{";
  for (size_t i = 0; i < dims.size(); ++i) lit += (i ? ", " : "") + std::to_string(dims[i]);
  *literal = lit + "}";
  return true;
}

// Type text as MXNet writes it: "int, optional, default=1", "Shape(tuple), required",
// "{'a', 'b'}, optional, default='a'". The default itself comes from param_defaults (unquoted).
Param MakeParam(const std::string& name, const std::string& type, const std::string& def, const std::string& doc) {
  Param p;
  p.name = name;
  p.doc = doc;
  std::string base = type;
  if (base.compare(0, 1, "{") == 0) {
    base = base.substr(0, base.find('}') + 1);
  } else {
    size_t comma = base.find(',');
    if (comma != std::string::npos) base = base.substr(0, comma);
  }
  p.type_doc = base;
  p.required = type.find("required") != std::string::npos;
  if (base == "int" || base == "long" || base == "int (non-negative)" || base == "int64" || base == "long (non-negative)")
    p.kind = Kind::kInt;
  else if (base == "float" || base == "double")
    p.kind = Kind::kFloat;
  else if (base == "boolean" || base == "bool")
    p.kind = Kind::kBool;
  else if (base.compare(0, 5, "Shape") == 0 || base == "tuple of <int>" || base == "tuple of <long>")
    p.kind = Kind::kShape;
  else if (base == "Context")
    p.kind = Kind::kContext;
  else
    p.kind = Kind::kString;  // enums, strings, dtypes and anything newer: passed as text
  if (p.required) return p;
  if (def == "None") {
    p.none_default = true;
    return p;
  }
  long long iv;
  double fv;
  std::string lit;
  switch (p.kind) {
    case Kind::kInt:
      if (ParseInt(def, &iv)) p.default_literal = std::to_string(iv);
      break;
    case Kind::kFloat:
      if (ParseFloat(def, &fv)) p.default_literal = FloatLiteral(fv);
      break;
    case Kind::kBool:
      if (def == "True" || def == "true" || def == "1") p.default_literal = "true";
      if (def == "False" || def == "false" || def == "0") p.default_literal = "false";
      break;
    case Kind::kShape:
      if (ParseShape(def, &lit)) p.default_literal = lit;
      break;
    case Kind::kContext: {
      int id = 0;
      if (std::sscanf(def.c_str(), "cpu(%d)", &id) == 1) p.default_literal = "::mx::Context::cpu(" + std::to_string(id) + ")";
      else if (std::sscanf(def.c_str(), "gpu(%d)", &id) == 1) p.default_literal = "::mx::Context::gpu(" + std::to_string(id) + ")";
      break;
    }
    case Kind::kString:
      p.default_literal = Quote(def);
      break;
  }
  if (p.default_literal.empty()) {  // a default this generator cannot type: pass it as text
    p.kind = Kind::kString;
    p.default_literal = Quote(def);
  }
  return p;
}

std::string ValueType(const Param& p) {
  switch (p.kind) {
    case Kind::kInt: return "int64_t";
    case Kind::kFloat: return "double";
    case Kind::kBool: return "bool";
    case Kind::kShape: return "::mx::Shape";
    case Kind::kContext: return "::mx::Context";
    case Kind::kString: return "std::string";
  }
  return "std::string";
}

std::string ArgType(const Param& p) {
  std::string t = ValueType(p);
  if (p.none_default) return "const ::mx::Optional<" + t + ">&";
  if (p.kind == Kind::kInt || p.kind == Kind::kFloat || p.kind == Kind::kBool) return t;
  return "const " + t + "&";
}

std::string ArgDecl(const Param& p, bool with_default) {
  std::string s = ArgType(p) + " " + p.ident;
  if (with_default && !p.required) s += " = " + (p.none_default ? "::mx::Optional<" + ValueType(p) + ">()" : p.default_literal);
  return s;
}

std::string SetParamLine(const Param& p) {
  if (p.required || p.none_default) return "  op_builder_.SetParam(" + Quote(p.name) + ", " + p.ident + ");\n";
  return "  if (" + p.ident + " != " + p.default_literal + ") op_builder_.SetParam(" + Quote(p.name) + ", " + p.ident + ");\n";
}

struct OpDesc {
  std::string reg_name;  // the registry name the function calls
  std::string ns;        // "" or contrib / random / linalg / image / internal
  std::string fname;
  std::string summary;
  std::vector<std::string> inputs;  // C++ names
  std::vector<std::string> input_reg_names;
  bool variadic = false;
  bool multi_output = false;
  std::vector<Param> params;  // required first
};

bool Describe(const std::string& name, OpDesc* d) {
  if (name.compare(0, 10, "_backward_") == 0 || !IsIdent(name)) return false;
  static const char* prefixes[][2] = {{"_contrib_", "contrib"}, {"_random_", "random"}, {"_linalg_", "linalg"}, {"_image_", "image"}};
  d->reg_name = name;
  d->ns.clear();
  d->fname = name;
  if (name[0] == '_') {
    d->ns = "internal";
    for (auto& pr : prefixes) {
      size_t n = std::strlen(pr[0]);
      if (name.compare(0, n, pr[0]) == 0 && name.size() > n && !std::isdigit(static_cast<unsigned char>(name[n]))) {
        d->ns = pr[1];
        d->fname = name.substr(n);
        break;
      }
    }
    while (!d->fname.empty() && d->fname[0] == '_') d->fname.erase(d->fname.begin());
    if (d->fname.empty() || std::isdigit(static_cast<unsigned char>(d->fname[0]))) return false;
  }
  static const std::set<std::string> nested = {"contrib", "random", "linalg", "image", "internal"};
  d->fname = Sanitize(d->fname);
  if (d->ns.empty() && nested.count(d->fname)) d->fname += "_";

  const mx_op* op = nullptr;
  Check(mx_op_find(name.c_str(), &op), "mx_op_find");
  const char* doc = nullptr;
  const char* key_var = nullptr;
  int np = 0, ni = 0;
  const char* const* pnames = nullptr;
  const char* const* ptypes = nullptr;
  const char* const* pdefs = nullptr;
  const char* const* pdocs = nullptr;
  const char* const* inames = nullptr;
  Check(mx_op_info(op, nullptr, &doc, &np, &pnames, &ptypes, &pdefs, &pdocs, &ni, &inames, &key_var), "mx_op_info");
  const char* nout = nullptr;
  Check(mx_op_attr(op, "num_outputs", &nout), "mx_op_attr");
  d->multi_output = std::string(nout ? nout : "1") != "1";
  d->summary = Summary(doc ? doc : "");
  std::string var = key_var ? key_var : "";
  d->variadic = !var.empty();

  std::set<std::string> used;
  d->inputs.clear();
  d->input_reg_names.clear();
  for (int i = 0; i < ni; ++i) {
    std::string in = inames[i];
    std::string id = IsIdent(in) ? Sanitize(in) : "in" + std::to_string(i);
    while (used.count(id)) id += "_";
    used.insert(id);
    d->inputs.push_back(id);
    d->input_reg_names.push_back(in);
  }
  if (d->variadic && d->inputs.size() != 1) {
    std::fprintf(stderr, "gen_ops: variadic op %s has %d input names; left out\n", name.c_str(), ni);
    return false;
  }
  std::vector<Param> req, opt;
  for (int i = 0; i < np; ++i) {
    std::string pn = pnames[i];
    if (pn == var) continue;  // set from the number of inputs by mx::Operator
    if (!IsIdent(pn)) continue;  // reachable through mx::Operator only
    Param p = MakeParam(pn, ptypes[i] ? ptypes[i] : "string", pdefs[i] ? pdefs[i] : "", pdocs && pdocs[i] ? pdocs[i] : "");
    std::string id = Sanitize(pn);
    while (used.count(id)) id += "_";
    used.insert(id);
    p.ident = id;
    (p.required ? req : opt).push_back(p);
  }
  d->params = req;
  d->params.insert(d->params.end(), opt.begin(), opt.end());
  return true;
}

std::string ParamList(const std::vector<Param>& params, bool with_default) {
  std::string s;
  for (const auto& p : params) s += ", " + ArgDecl(p, with_default);
  return s;
}

void WriteDoc(std::ostream& os, const OpDesc& d) {
  os << "// " << d.reg_name;
  if (!d.summary.empty()) os << ": " << d.summary;
  os << "\n";
  for (const auto& p : d.params) {
    os << "//   " << p.ident << " (" << CommentText(p.type_doc, 120) << (p.required ? ", required" : "") << ")";
    std::string doc = CommentText(p.doc, 160);
    if (!doc.empty()) os << ": " << doc;
    os << "\n";
  }
}

void WriteNDArrayFunction(std::ostream& os, const OpDesc& d) {
  WriteDoc(os, d);
  std::string ret = d.multi_output ? "std::vector<::mx::NDArray>" : "::mx::NDArray";
  os << "inline " << ret << " " << d.fname << "(";
  std::string args;
  for (size_t i = 0; i < d.inputs.size(); ++i) {
    if (!args.empty()) args += ", ";
    args += (d.variadic ? "const std::vector<::mx::NDArray>& " : "const ::mx::NDArray& ") + d.inputs[i];
  }
  std::string params = ParamList(d.params, true);
  if (args.empty() && !params.empty()) params = params.substr(2);
  os << args << params << ") {\n";
  os << "  ::mx::Operator op_builder_(" << Quote(d.reg_name) << ");\n";
  for (size_t i = 0; i < d.inputs.size(); ++i) {
    if (d.variadic)
      os << "  op_builder_(" << d.inputs[i] << ");\n";
    else
      os << "  if (!" << d.inputs[i] << ".IsNone()) op_builder_.SetInput(" << Quote(d.input_reg_names[i]) << ", "
         << d.inputs[i] << ");\n";
  }
  for (const auto& p : d.params) os << SetParamLine(p);
  os << (d.multi_output ? "  return op_builder_.Invoke();\n" : "  return op_builder_.Invoke()[0];\n") << "}\n";
}

void WriteSymbolFunctions(std::ostream& os, const OpDesc& d) {
  os << "// " << d.reg_name << " as a graph node: see mx::op::" << (d.ns.empty() ? "" : d.ns + "::") << d.fname << ".\n";
  std::string args;
  for (size_t i = 0; i < d.inputs.size(); ++i)
    args += std::string(", ") + (d.variadic ? "const std::vector<::mx::Symbol>& " : "const ::mx::Symbol& ") + d.inputs[i];
  os << "inline ::mx::Symbol " << d.fname << "(const std::string& symbol_name" << args << ParamList(d.params, true) << ") {\n";
  os << "  ::mx::Operator op_builder_(" << Quote(d.reg_name) << ");\n";
  for (size_t i = 0; i < d.inputs.size(); ++i) {
    if (d.variadic)
      os << "  op_builder_(" << d.inputs[i] << ");\n";
    else  // inputs left empty become variables named <symbol_name>_<input>
      os << "  if (!" << d.inputs[i] << ".IsNone()) op_builder_.SetInput(" << Quote(d.input_reg_names[i]) << ", "
         << d.inputs[i] << ");\n";
  }
  for (const auto& p : d.params) os << SetParamLine(p);
  os << "  return op_builder_.CreateSymbol(symbol_name);\n}\n";
  // Without symbol_name (an automatic name). Left out where a string first argument would make a call
  // with one string ambiguous, or bind a name to a bool parameter.
  if (d.inputs.empty() && !d.params.empty() && (d.params[0].kind == Kind::kString || d.params[0].kind == Kind::kBool ||
                                                d.params[0].none_default))
    return;
  std::string plain_args = args.empty() ? "" : args.substr(2);
  std::string params = ParamList(d.params, true);
  if (plain_args.empty() && !params.empty()) params = params.substr(2);
  os << "inline ::mx::Symbol " << d.fname << "(" << plain_args << params << ") {\n";
  os << "  return ::mx::sym::" << (d.ns.empty() ? "" : d.ns + "::") << d.fname << "(\"\"";
  for (const auto& in : d.inputs) os << ", " << in;
  for (const auto& p : d.params) os << ", " << p.ident;
  os << ");\n}\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: gen_ops <output mx/ops.hpp>\n");
    return 2;
  }
  size_t n = 0;
  const char* const* names = nullptr;
  Check(mx_op_list(&n, &names), "mx_op_list");
  std::vector<std::string> sorted(names, names + n);
  std::sort(sorted.begin(), sorted.end());

  std::vector<OpDesc> ops;
  std::set<std::string> seen;  // ns::fname
  for (const auto& name : sorted) {
    OpDesc d;
    if (!Describe(name, &d)) continue;
    std::string key = d.ns + "::" + d.fname;
    if (!seen.insert(key).second) {
      std::fprintf(stderr, "gen_ops: %s maps to %s like an earlier op; left out\n", name.c_str(), key.c_str());
      continue;
    }
    ops.push_back(d);
  }

  std::ostringstream os;
  os << "// Generated by bindings/cpp/tools/gen_ops.cc from libmx's op registry at build time. Do not edit.\n"
        "//\n"
        "// mx::op::<name>(NDArray inputs..., params...)   runs the op now (imperative, like mx.nd in Python):\n"
        "//     returns an NDArray, or std::vector<NDArray> for ops with several or parameter-dependent outputs.\n"
        "// mx::sym::<name>([symbol_name,] Symbol inputs..., params...)   builds a graph node (like mx.sym, and\n"
        "//     like the op functions of MXNet's cpp-package); inputs left empty become variables.\n"
        "// _contrib_X / _random_X / _linalg_X / _image_X are op::contrib::X, op::random::X, ...; other\n"
        "// internal names (_plus_scalar, ...) are op::internal::plus_scalar. An empty NDArray/Symbol input\n"
        "// leaves that (optional) input out. Parameters whose default is None take mx::Optional<T>.\n"
        "#ifndef MX_CPP_OPS_HPP_\n#define MX_CPP_OPS_HPP_\n\n"
        "#include <string>\n#include <vector>\n\n"
        "#include \"mx/base.hpp\"\n#include \"mx/ndarray.hpp\"\n#include \"mx/operator.hpp\"\n#include \"mx/symbol.hpp\"\n\n";
  const char* namespaces[] = {"", "contrib", "random", "linalg", "image", "internal"};
  for (const char* top : {"op", "sym"}) {
    os << "namespace mx {\nnamespace " << top << " {\n\n";
    for (const char* ns : namespaces) {
      if (*ns) os << "namespace " << ns << " {\n\n";
      for (const auto& d : ops) {
        if (d.ns != ns) continue;
        if (std::string(top) == "op") WriteNDArrayFunction(os, d);
        else WriteSymbolFunctions(os, d);
        os << "\n";
      }
      if (*ns) os << "}  // namespace " << ns << "\n\n";
    }
    os << "}  // namespace " << top << "\n}  // namespace mx\n\n";
  }
  os << "#endif  // MX_CPP_OPS_HPP_\n";

  // Write only when the text changed, so dependents do not rebuild for nothing.
  std::string text = os.str();
  {
    std::ifstream in(argv[1], std::ios::binary);
    if (in) {
      std::stringstream old;
      old << in.rdbuf();
      if (old.str() == text) return 0;
    }
  }
  std::string tmp = std::string(argv[1]) + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    if (!out) {
      std::fprintf(stderr, "gen_ops: cannot write %s\n", tmp.c_str());
      return 1;
    }
  }
  if (std::rename(tmp.c_str(), argv[1]) != 0) {
    std::fprintf(stderr, "gen_ops: cannot rename %s to %s\n", tmp.c_str(), argv[1]);
    return 1;
  }
  std::fprintf(stderr, "gen_ops: %zu op functions written to %s\n", ops.size(), argv[1]);
  return 0;
}
