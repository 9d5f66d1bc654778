// MXNet's nnvm graph JSON: writing exactly as MXNet 1.9.1 lays it out (dmlc's JSON writer), and
// reading files of MXNet 1.x (older "param"/"attr" keys, two-element input pairs, BatchNorm
// without its auxiliary inputs, parameters MX does not implement but MXNet declares).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <unordered_map>

#include "base/error.h"
#include "graph/symbol.h"

namespace mx {
namespace graph {

namespace {

// ------------------------------------------------------------------ a small JSON reader
struct JValue {
  enum Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = kNull;
  std::string text;  // kString: the value; kNumber / kBool: the literal as written
  std::vector<JValue> items;
  std::vector<std::pair<std::string, JValue>> members;

  const JValue* get(const char* key) const {
    for (const auto& m : members)
      if (m.first == key) return &m.second;
    return nullptr;
  }
};

const char* kind_name(JValue::Kind k) {
  switch (k) {
    case JValue::kNull: return "null";
    case JValue::kBool: return "a boolean";
    case JValue::kNumber: return "a number";
    case JValue::kString: return "a string";
    case JValue::kArray: return "an array";
    case JValue::kObject: return "an object";
  }
  return "?";
}

class Reader {
 public:
  explicit Reader(const std::string& s) : p_(s.data()), begin_(s.data()), end_(s.data() + s.size()) {}

  JValue parse_document() {
    JValue v = value(0);
    skip_ws();
    if (p_ != end_) fail("unexpected text after the JSON value");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 512;
  const char* p_;
  const char* begin_;
  const char* end_;

  [[noreturn]] void fail(const std::string& what) const {
    MX_THROW(kInvalidArgument, "bad symbol JSON at offset ", p_ - begin_, ": ", what);
  }
  void skip_ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool literal(const char* word) {
    const size_t n = std::strlen(word);
    if (static_cast<size_t>(end_ - p_) >= n && std::memcmp(p_, word, n) == 0) {
      p_ += n;
      return true;
    }
    return false;
  }

  JValue value(int depth) {
    if (depth > kMaxDepth) fail("nesting too deep");
    skip_ws();
    if (p_ == end_) fail("unexpected end of input");
    JValue v;
    const char c = *p_;
    if (c == '{') {
      v.kind = JValue::kObject;
      ++p_;
      skip_ws();
      if (p_ != end_ && *p_ == '}') {
        ++p_;
        return v;
      }
      for (;;) {
        skip_ws();
        if (p_ == end_ || *p_ != '"') fail("expected a string key");
        std::string key = string();
        skip_ws();
        if (p_ == end_ || *p_ != ':') fail("expected ':' after key \"" + key + "\"");
        ++p_;
        v.members.emplace_back(std::move(key), value(depth + 1));
        skip_ws();
        if (p_ != end_ && *p_ == ',') {
          ++p_;
          continue;
        }
        if (p_ != end_ && *p_ == '}') {
          ++p_;
          return v;
        }
        fail("expected ',' or '}' in an object");
      }
    }
    if (c == '[') {
      v.kind = JValue::kArray;
      ++p_;
      skip_ws();
      if (p_ != end_ && *p_ == ']') {
        ++p_;
        return v;
      }
      for (;;) {
        v.items.push_back(value(depth + 1));
        skip_ws();
        if (p_ != end_ && *p_ == ',') {
          ++p_;
          continue;
        }
        if (p_ != end_ && *p_ == ']') {
          ++p_;
          return v;
        }
        fail("expected ',' or ']' in an array");
      }
    }
    if (c == '"') {
      v.kind = JValue::kString;
      v.text = string();
      return v;
    }
    if (literal("true")) {
      v.kind = JValue::kBool;
      v.text = "true";
      return v;
    }
    if (literal("false")) {
      v.kind = JValue::kBool;
      v.text = "false";
      return v;
    }
    if (literal("null")) return v;
    if (c == '-' || (c >= '0' && c <= '9')) {
      const char* s = p_;
      if (*p_ == '-') ++p_;
      const char* digits = p_;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      if (p_ == digits) fail("bad number");
      if (p_ != end_ && *p_ == '.') {
        ++p_;
        const char* f = p_;
        while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
        if (p_ == f) fail("bad number");
      }
      if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
        ++p_;
        if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
        const char* e = p_;
        while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
        if (p_ == e) fail("bad number");
      }
      v.kind = JValue::kNumber;
      v.text.assign(s, p_);
      return v;
    }
    fail(std::string("unexpected character '") + c + "'");
  }

  unsigned hex4() {
    if (end_ - p_ < 4) fail("truncated \\u escape");
    unsigned u = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = *p_++;
      u <<= 4;
      if (h >= '0' && h <= '9') u |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f') u |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') u |= static_cast<unsigned>(h - 'A' + 10);
      else fail("bad \\u escape");
    }
    return u;
  }

  static void utf8(std::string* out, unsigned cp) {
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xC0 | (cp >> 6));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *out += static_cast<char>(0xE0 | (cp >> 12));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      *out += static_cast<char>(0xF0 | (cp >> 18));
      *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string string() {
    ++p_;  // opening quote
    std::string out;
    for (;;) {
      if (p_ == end_) fail("unterminated string");
      const char c = *p_++;
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (p_ == end_) fail("unterminated string");
      const char e = *p_++;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && end_ - p_ >= 6 && p_[0] == '\\' && p_[1] == 'u') {
            p_ += 2;
            const unsigned lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          utf8(&out, cp);
          break;
        }
        default: fail(std::string("bad escape '\\") + e + "'");
      }
    }
  }
};

// ------------------------------------------------------------------ MXNet facts
// Parameters MXNet 1.9.1's ops declare that only tune the implementation (cuDNN algorithm choice,
// workspace sizes, quantisation calibration): MX has no use for them, keeps them as node
// attributes and writes them back. Any other key MX's op does not declare is an error.
bool is_mxnet_hint_param(const std::string& op, const std::string& key) {
  static const char* const kCommon[] = {"cudnn_tune", "cudnn_off", "workspace", "min_calib_range",
                                        "max_calib_range", "use_mkldnn", "mkldnn_off"};
  for (const char* k : kCommon)
    if (key == k) return true;
  (void)op;
  return false;
}

bool is_legacy_scope_attr(const std::string& key) {
  static const char* const kKeys[] = {"ctx_group", "lr_mult", "wd_mult", "force_mirroring", "mirror_stage"};
  for (const char* k : kKeys)
    if (key == k) return true;
  return false;
}

// Output counts of MXNet's ops where MXNet has outputs MX does not (hidden: saved statistics,
// masks). Used to tell "MX lacks this output" from "index out of range" when node_row_ptr is absent.
int mxnet_num_outputs(const std::string& op) {
  static const std::pair<const char*, int> kTable[] = {
      {"BatchNorm", 3}, {"Dropout", 2}, {"LayerNorm", 3}, {"GroupNorm", 3}, {"InstanceNorm", 3},
      {"Pooling", 2},   {"LRN", 2},     {"SyncBatchNorm", 3}};
  for (const auto& e : kTable)
    if (op == e.first) return e.second;
  return 0;
}

// ------------------------------------------------------------------ writer (dmlc JSONWriter layout)
// dmlc writes objects and arrays on several lines (indent 2 per level, ", " then a newline
// between items) except maps of at most one entry and arrays of at most ten items, which stay
// on one line; node objects and the top-level object are always multi-line.
class Writer {
 public:
  std::string out;

  void string(const std::string& s) {
    out += '"';
    for (const char c : s) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
            out += buf;
          } else {
            out += c;
          }
      }
    }
    out += '"';
  }
  void begin(char open, bool multi) {
    out += open;
    scopes_.push_back(Scope{multi, 0});
  }
  void end(char close) {
    const bool multi = scopes_.back().multi;
    scopes_.pop_back();
    if (multi) newline();
    out += close;
  }
  // Before each item or key of the current scope.
  void item() {
    Scope& s = scopes_.back();
    if (s.count++ > 0) out += ", ";
    if (s.multi) newline();
  }
  void key(const char* k) {
    item();
    string(k);
    out += ": ";
  }
  void int_array(const std::vector<uint32_t>& v) {
    begin('[', v.size() > 10);
    for (uint32_t x : v) {
      item();
      out += std::to_string(x);
    }
    end(']');
  }
  void entry(uint32_t node, uint32_t index, uint32_t version) {
    out += '[';
    out += std::to_string(node);
    out += ", ";
    out += std::to_string(index);
    out += ", ";
    out += std::to_string(version);
    out += ']';
  }

 private:
  struct Scope {
    bool multi;
    size_t count;
  };
  std::vector<Scope> scopes_;
  void newline() {
    out += '\n';
    out.append(2 * scopes_.size(), ' ');
  }
};

}  // namespace

std::string to_json(const Symbol& sym) {
  const std::vector<NodePtr> order = sym.topo_order();
  std::unordered_map<const Node*, uint32_t> id;
  id.reserve(order.size());
  for (size_t i = 0; i < order.size(); ++i) id[order[i].get()] = static_cast<uint32_t>(i);
  // nnvm bumps a variable's version each time an op mutates it; MXNet writes that version.
  std::unordered_map<const Node*, uint32_t> version;
  Writer w;
  w.begin('{', true);
  w.key("nodes");
  w.begin('[', true);
  std::vector<uint32_t> arg_nodes, row_ptr{0};
  for (size_t i = 0; i < order.size(); ++i) {
    const Node& n = *order[i];
    w.item();
    w.begin('{', true);
    w.key("op");
    w.string(n.is_variable() ? std::string("null") : n.op->name());
    w.key("name");
    w.string(n.name);
    std::map<std::string, std::string> attrs(n.attrs.begin(), n.attrs.end());
    if (n.params)
      for (const auto& kv : n.params->explicit_values()) attrs[kv.first] = kv.second;
    if (!attrs.empty()) {
      w.key("attrs");
      w.begin('{', attrs.size() > 1);
      for (const auto& kv : attrs) {
        w.key(kv.first.c_str());
        w.string(kv.second);
      }
      w.end('}');
    }
    w.key("inputs");
    w.begin('[', n.inputs.size() > 10);
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      const Entry& e = n.inputs[k];
      uint32_t ver = 0;
      if (is_aux_use(n, k) && e.node->is_variable()) ver = ++version[e.node.get()];
      w.item();
      w.entry(id.at(e.node.get()), e.index, ver);
    }
    w.end(']');
    w.end('}');
    if (n.is_variable()) arg_nodes.push_back(static_cast<uint32_t>(i));
    // MXNet's own output counts where they exceed MX's, so the file reads as MXNet wrote it.
    const uint32_t mxn = n.is_variable() ? 1u : static_cast<uint32_t>(mxnet_num_outputs(n.op->name()));
    row_ptr.push_back(row_ptr.back() + std::max(n.num_outputs(), mxn));
  }
  w.end(']');
  w.key("arg_nodes");
  w.int_array(arg_nodes);
  w.key("node_row_ptr");
  w.int_array(row_ptr);
  w.key("heads");
  w.begin('[', sym.outputs.size() > 10);
  for (const Entry& e : sym.outputs) {
    w.item();
    w.entry(id.at(e.node.get()), e.index, 0);
  }
  w.end(']');
  w.key("attrs");
  w.begin('{', false);
  w.key("mxnet_version");
  w.out += "[\"int\", 10901]";
  w.end('}');
  w.end('}');
  return std::move(w.out);
}

namespace {

std::string node_label(size_t i, const std::string& name) {
  return name.empty() ? str("node ", i) : str("node ", i, " ('", name, "')");
}

uint32_t to_index(const JValue& v, const std::string& where) {
  MX_CHECK(v.kind == JValue::kNumber, kInvalidArgument, "symbol JSON: ", where, " must be a number, got ",
           kind_name(v.kind));
  MX_CHECK(v.text.find_first_of(".eE-") == std::string::npos && v.text.size() <= 9, kInvalidArgument,
           "symbol JSON: ", where, " must be a non-negative integer, got ", v.text);
  return static_cast<uint32_t>(std::strtoul(v.text.c_str(), nullptr, 10));
}

// [node, index] or [node, index, version] -> checked Entry.
Entry read_entry(const JValue& v, const std::vector<NodePtr>& nodes, size_t limit, size_t total,
                 const std::vector<uint32_t>& mx_row_counts, const std::string& where) {
  MX_CHECK(v.kind == JValue::kArray && (v.items.size() == 2 || v.items.size() == 3), kInvalidArgument,
           "symbol JSON: ", where, " must be [node, index, version]");
  const uint32_t nid = to_index(v.items[0], where + " node id");
  const uint32_t idx = to_index(v.items[1], where + " output index");
  MX_CHECK(nid < limit, kInvalidArgument, "symbol JSON: ", where, " refers to node ", nid,
           nid < total ? " which comes later (nodes must be in topological order)"
                              : " which does not exist");
  const NodePtr& src = nodes[nid];
  const uint32_t have = src->num_outputs();
  if (idx >= have) {
    const uint32_t mxnet_count = nid < mx_row_counts.size() && mx_row_counts[nid] > 0
                                     ? mx_row_counts[nid]
                                     : (src->is_variable() ? 1u : static_cast<uint32_t>(mxnet_num_outputs(src->op->name())));
    MX_CHECK(idx >= mxnet_count, kUnsupported, "symbol JSON: ", where, " uses output ", idx, " of ",
             node_label(nid, src->name), " (op ", src->is_variable() ? std::string("null") : src->op->name(),
             "), an output MXNet's op has but MX's does not (MX has ", have, ")");
    MX_THROW(kInvalidArgument, "symbol JSON: ", where, " uses output ", idx, " of ", node_label(nid, src->name),
             " which has ", have, " output", have == 1 ? "" : "s");
  }
  return Entry{src, idx};
}

void collect_attrs(const JValue& obj, const std::string& where, std::vector<std::pair<std::string, std::string>>* out) {
  MX_CHECK(obj.kind == JValue::kObject, kInvalidArgument, "symbol JSON: ", where, " must be an object, got ",
           kind_name(obj.kind));
  for (const auto& m : obj.members) {
    const JValue& v = m.second;
    MX_CHECK(v.kind == JValue::kString || v.kind == JValue::kNumber || v.kind == JValue::kBool, kInvalidArgument,
             "symbol JSON: ", where, " key '", m.first, "' must be a string, got ", kind_name(v.kind));
    out->emplace_back(m.first, v.text);
  }
}

}  // namespace

Symbol from_json(const std::string& json) {
  const JValue root = Reader(json).parse_document();
  MX_CHECK(root.kind == JValue::kObject, kInvalidArgument, "symbol JSON: the document is ",
           kind_name(root.kind), ", not a graph object");
  const JValue* jnodes = root.get("nodes");
  MX_CHECK(jnodes && jnodes->kind == JValue::kArray, kInvalidArgument,
           "symbol JSON: not a graph (no \"nodes\" array)");
  const JValue* jheads = root.get("heads");
  MX_CHECK(jheads && jheads->kind == JValue::kArray, kInvalidArgument,
           "symbol JSON: not a graph (no \"heads\" array)");
  // MXNet's output counts per node, when the file has them (used only for error messages).
  std::vector<uint32_t> mx_counts;
  if (const JValue* rp = root.get("node_row_ptr")) {
    if (rp->kind == JValue::kArray && rp->items.size() == jnodes->items.size() + 1) {
      bool ok = true;
      std::vector<uint32_t> v;
      for (const JValue& x : rp->items) {
        if (x.kind != JValue::kNumber) ok = false;
        else v.push_back(static_cast<uint32_t>(std::strtoul(x.text.c_str(), nullptr, 10)));
      }
      for (size_t i = 0; ok && i + 1 < v.size(); ++i) mx_counts.push_back(v[i + 1] >= v[i] ? v[i + 1] - v[i] : 0);
    }
  }

  // Files before MXNet 0.9 wrote scope attributes without the "__" markers.
  bool legacy_attr_names = true;
  if (const JValue* ga = root.get("attrs")) {
    const JValue* ver = ga->kind == JValue::kObject ? ga->get("mxnet_version") : nullptr;
    if (ver && ver->kind == JValue::kArray && ver->items.size() == 2 && ver->items[1].kind == JValue::kNumber)
      legacy_attr_names = std::strtol(ver->items[1].text.c_str(), nullptr, 10) < 900;
  }

  const size_t count = jnodes->items.size();
  // Released last to first, so no node dies while it still holds its inputs' last references
  // (a long chain would otherwise be destroyed recursively when loading fails).
  struct NodeList {
    std::vector<NodePtr> v;
    ~NodeList() {
      while (!v.empty()) v.pop_back();
    }
  } held;
  std::vector<NodePtr>& nodes = held.v;
  nodes.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const JValue& jn = jnodes->items[i];
    MX_CHECK(jn.kind == JValue::kObject, kInvalidArgument, "symbol JSON: node ", i, " is ", kind_name(jn.kind),
             ", not an object");
    const JValue* jname = jn.get("name");
    MX_CHECK(jname && jname->kind == JValue::kString, kInvalidArgument, "symbol JSON: node ", i,
             " has no \"name\" string");
    const std::string label = node_label(i, jname->text);
    const JValue* jop = jn.get("op");
    MX_CHECK(jop && jop->kind == JValue::kString, kInvalidArgument, "symbol JSON: ", label,
             " has no \"op\" string");
    std::vector<std::pair<std::string, std::string>> kv;
    for (const char* k : {"attrs", "attr", "param"})
      if (const JValue* a = jn.get(k)) collect_attrs(*a, label + " \"" + k + "\"", &kv);
    if (const JValue* sg = jn.get("subgraphs"))
      MX_CHECK(sg->kind != JValue::kArray || sg->items.empty(), kUnsupported, "symbol JSON: ", label,
               " has subgraphs (control-flow ops), which MX does not support");

    auto node = std::make_shared<Node>();
    node->name = jname->text;
    if (jop->text != "null") {
      node->op = find_op(jop->text);
      MX_CHECK(node->op != nullptr, kNotFound, "symbol JSON: ", label, " uses unknown operator '", jop->text, "'");
    }
    std::vector<std::pair<std::string, std::string>> params;
    for (auto& p : kv) {
      if (legacy_attr_names && is_legacy_scope_attr(p.first) &&
          (node->is_variable() || node->op->param_index(p.first) < 0))
        p.first = "__" + p.first + "__";
      if (node->is_variable() || (p.first.size() > 4 && p.first.compare(0, 2, "__") == 0 &&
                                  p.first.compare(p.first.size() - 2, 2, "__") == 0)) {
        node->attrs[p.first] = p.second;
      } else if (node->op->param_index(p.first) >= 0) {
        params.push_back(std::move(p));
      } else if (is_mxnet_hint_param(node->op->name(), p.first)) {
        node->attrs[p.first] = p.second;
      } else {
        MX_THROW(kInvalidArgument, "symbol JSON: ", label, ": operator ", node->op->name(),
                 " has no parameter '", p.first, "' (value '", p.second, "')");
      }
    }
    if (!node->is_variable()) {
      try {
        node->params = Params::parse(*node->op, params);
      } catch (const Error& e) {
        throw Error(e.code(), str("symbol JSON: ", label, ": ", e.what()));
      }
    }

    const JValue* jin = jn.get("inputs");
    if (jin) {
      MX_CHECK(jin->kind == JValue::kArray, kInvalidArgument, "symbol JSON: ", label,
               " \"inputs\" must be an array");
      node->inputs.reserve(jin->items.size());
      for (size_t k = 0; k < jin->items.size(); ++k)
        node->inputs.push_back(read_entry(jin->items[k], nodes, i, count, mx_counts, str(label, " input ", k)));
    }
    if (node->is_variable()) {
      MX_CHECK(node->inputs.empty(), kInvalidArgument, "symbol JSON: ", label, " is a variable with inputs");
    } else {
      const int n_in = node->op->num_inputs(*node->params);
      const size_t have = node->inputs.size();
      MX_CHECK(have <= static_cast<size_t>(n_in), kInvalidArgument, "symbol JSON: ", label, ": operator ",
               node->op->name(), " takes ", n_in, " inputs, the file gives ", have);
      if (have < static_cast<size_t>(n_in)) {
        // Old files leave out trailing inputs (BatchNorm's moving statistics): create them as
        // Symbol::create does.
        const auto& names = node->op->input_names();
        MX_CHECK(node->op->key_var_num_args().empty() && names.size() >= static_cast<size_t>(n_in),
                 kInvalidArgument, "symbol JSON: ", label, ": operator ", node->op->name(), " takes ", n_in,
                 " inputs, the file gives ", have);
        for (size_t k = have; k < static_cast<size_t>(n_in); ++k)
          node->inputs.push_back(Symbol::variable(node->name + "_" + names[k]).outputs[0]);
      }
    }
    nodes.push_back(std::move(node));
  }

  Symbol sym;
  sym.outputs.reserve(jheads->items.size());
  for (size_t k = 0; k < jheads->items.size(); ++k)
    sym.outputs.push_back(read_entry(jheads->items[k], nodes, count, count, mx_counts, str("head ", k)));
  return sym;
}

}  // namespace graph
}  // namespace mx
