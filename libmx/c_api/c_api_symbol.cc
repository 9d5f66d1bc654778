// The symbol section of the C ABI: graph construction, listing, attributes, JSON, inference.
#include "c_api/c_api_symbol.h"

#include <cstdio>
#include <mutex>

#include "graph/passes.h"

namespace {
constexpr uint32_t kSymbolMagic = 0x4d585359u;  // "MXSY"
constexpr uint32_t kInferMagic = 0x4d58494eu;   // "MXIN"
}  // namespace

struct mx_symbol {
  uint32_t magic;
  mx::graph::Symbol sym;
  // Borrowed strings handed out by the list/name/attr/json calls (valid until the next such call).
  std::string json, name, attr;
  std::vector<std::string> list;
  std::vector<const char*> ptrs;
};

struct mx_infer_result {
  uint32_t magic;
  bool is_shape;
  bool complete;
  std::vector<mx::Shape> shapes[3];  // arguments, outputs, aux states
  std::vector<int> dtypes[3];
};

namespace mx {
namespace capi {
namespace {

// Freed handles are kept (dead magic) and reused, never returned to the allocator, so a stale
// handle reads as freed rather than as garbage.
struct SymbolSlab {
  std::mutex mu;
  std::vector<mx_symbol*> free_list;
};
SymbolSlab& symbol_slab() {
  static SymbolSlab* s = new SymbolSlab();
  return *s;
}

mx_symbol* get_mut(mx_symbol* h) {
  MX_CHECK(h != nullptr, kHandle, "symbol handle is NULL");
  MX_CHECK(h->magic == kSymbolMagic, kHandle, "symbol handle is invalid or was already freed");
  return h;
}

const mx_infer_result* get_res(const mx_infer_result* r) {
  MX_CHECK(r != nullptr, kHandle, "infer result handle is NULL");
  MX_CHECK(r->magic == kInferMagic, kHandle, "infer result handle is invalid or was already freed");
  return r;
}

std::string cstr(const char* s, const char* what) {
  MX_CHECK(s != nullptr, kInvalidArgument, what, " is NULL");
  return std::string(s);
}

void list_out(mx_symbol* h, std::vector<std::string> items, size_t* n, const char* const** names) {
  h->list = std::move(items);
  h->ptrs.clear();
  h->ptrs.reserve(h->list.size() + 1);
  for (const std::string& s : h->list) h->ptrs.push_back(s.c_str());
  h->ptrs.push_back(nullptr);
  *n = h->list.size();
  *names = h->ptrs.data();
}

std::vector<graph::Symbol> symbols_of(int num, mx_symbol* const* syms, const char* what) {
  MX_CHECK(num >= 0, kInvalidArgument, "negative number of ", what);
  MX_CHECK(num == 0 || syms != nullptr, kInvalidArgument, what, " array is NULL");
  std::vector<graph::Symbol> out;
  out.reserve(static_cast<size_t>(num));
  for (int i = 0; i < num; ++i) out.push_back(get_symbol(syms[i]));
  return out;
}

std::vector<std::string> strings_of(int num, const char* const* keys, const char* what) {
  std::vector<std::string> out;
  if (!keys) return out;
  out.reserve(static_cast<size_t>(num));
  for (int i = 0; i < num; ++i) {
    MX_CHECK(keys[i] != nullptr, kInvalidArgument, what, "[", i, "] is NULL");
    out.emplace_back(keys[i]);
  }
  return out;
}

// Variable node ids of g for the given keys (by name among the inputs) or positions (arguments).
std::vector<uint32_t> targets_of(const graph::IndexedGraph& g, int num, const char* const* keys) {
  MX_CHECK(num >= 0, kInvalidArgument, "negative number of known inputs");
  std::vector<uint32_t> ids;
  ids.reserve(static_cast<size_t>(num));
  if (!keys) {
    MX_CHECK(static_cast<size_t>(num) <= g.arg_nodes.size(), kInvalidArgument, num,
             " positional inputs but the symbol has ", g.arg_nodes.size(), " arguments");
    for (int i = 0; i < num; ++i) ids.push_back(g.arg_nodes[static_cast<size_t>(i)]);
    return ids;
  }
  for (int i = 0; i < num; ++i) {
    MX_CHECK(keys[i] != nullptr, kInvalidArgument, "keys[", i, "] is NULL");
    bool hit = false;
    for (uint32_t nid : g.input_nodes) {
      if (g.nodes[nid]->name == keys[i]) {
        ids.push_back(nid);
        hit = true;
        break;
      }
    }
    if (!hit) {
      std::string known;
      for (size_t j = 0; j < g.input_nodes.size(); ++j)
        known += (j ? ", " : "") + g.nodes[g.input_nodes[j]]->name;
      MX_THROW(kInvalidArgument, "no argument named '", keys[i], "' (inputs: ", known, ")");
    }
  }
  return ids;
}

// Freed results are kept (dead magic) for reuse, as symbol handles are.
std::mutex g_result_mu;
std::vector<mx_infer_result*>* g_free_results = new std::vector<mx_infer_result*>();

mx_infer_result* new_result(bool is_shape) {
  mx_infer_result* r = nullptr;
  {
    std::lock_guard<std::mutex> lk(g_result_mu);
    if (!g_free_results->empty()) {
      r = g_free_results->back();
      g_free_results->pop_back();
    }
  }
  if (!r) r = new mx_infer_result();
  r->magic = kInferMagic;
  r->is_shape = is_shape;
  r->complete = false;
  return r;
}

}  // namespace

void release_symbol(graph::Symbol* sym) {
  // Dropping the last reference to a long chain would destroy it recursively (one stack frame per
  // node): detach the inputs of nodes this call owns alone and drop them one by one instead.
  std::vector<graph::NodePtr> stack;
  for (graph::Entry& e : sym->outputs) stack.push_back(std::move(e.node));
  sym->outputs.clear();
  sym->outputs.shrink_to_fit();
  while (!stack.empty()) {
    graph::NodePtr n = std::move(stack.back());
    stack.pop_back();
    if (n && n.use_count() == 1) {
      for (graph::Entry& e : n->inputs) stack.push_back(std::move(e.node));
      n->inputs.clear();
    }
  }
}

mx_symbol* new_symbol_handle(graph::Symbol sym) {
  mx_symbol* h = nullptr;
  {
    SymbolSlab& s = symbol_slab();
    std::lock_guard<std::mutex> lk(s.mu);
    if (!s.free_list.empty()) {
      h = s.free_list.back();
      s.free_list.pop_back();
    }
  }
  if (!h) h = new mx_symbol();
  h->sym = std::move(sym);
  h->magic = kSymbolMagic;
  return h;
}

const graph::Symbol& get_symbol(const mx_symbol* h) {
  MX_CHECK(h != nullptr, kHandle, "symbol handle is NULL");
  MX_CHECK(h->magic == kSymbolMagic, kHandle, "symbol handle is invalid or was already freed");
  return h->sym;
}

}  // namespace capi
}  // namespace mx

using mx::capi::check_out;
using mx::capi::get_mut;
using mx::capi::get_symbol;
using mx::capi::new_symbol_handle;
namespace graph = mx::graph;

extern "C" {

MX_API int mx_symbol_variable(const char* name, mx_symbol** out) {
  MX_API_BEGIN();
  check_out(out, "out");
  *out = new_symbol_handle(graph::Symbol::variable(mx::capi::cstr(name, "name")));
  MX_API_END();
}

MX_API void mx_symbol_free(mx_symbol* sym) {
  if (!sym || sym->magic != kSymbolMagic) return;
  sym->magic = kDeadMagic;
  mx::capi::release_symbol(&sym->sym);
  std::string().swap(sym->json);
  sym->name.clear();
  sym->attr.clear();
  std::vector<std::string>().swap(sym->list);
  std::vector<const char*>().swap(sym->ptrs);
  auto& s = mx::capi::symbol_slab();
  std::lock_guard<std::mutex> lk(s.mu);
  s.free_list.push_back(sym);
}

MX_API int mx_symbol_create(const char* op_name, int num_params, const char* const* keys,
                            const char* const* vals, int num_inputs, const char* const* input_keys,
                            mx_symbol* const* inputs, const char* name, mx_symbol** out) {
  MX_API_BEGIN();
  check_out(out, "out");
  const mx::OpDef& op = mx::get_op(mx::capi::cstr(op_name, "op_name"));
  MX_CHECK(num_params >= 0, kInvalidArgument, "negative num_params");
  MX_CHECK(num_params == 0 || (keys && vals), kInvalidArgument, "parameter keys or values are NULL");
  std::vector<std::pair<std::string, std::string>> kv;
  kv.reserve(static_cast<size_t>(num_params));
  for (int i = 0; i < num_params; ++i) {
    MX_CHECK(keys[i] && vals[i], kInvalidArgument, "parameter ", i, " key or value is NULL");
    kv.emplace_back(keys[i], vals[i]);
  }
  std::vector<graph::Symbol> ins = mx::capi::symbols_of(num_inputs, inputs, "inputs");
  std::vector<std::string> ikeys = mx::capi::strings_of(num_inputs, input_keys, "input_keys");
  graph::Symbol s = graph::Symbol::create(op, kv, ikeys, ins, name ? std::string(name) : std::string());
  *out = new_symbol_handle(std::move(s));
  MX_API_END();
}

MX_API int mx_symbol_compose(const mx_symbol* sym, const char* name, int num_args, const char* const* keys,
                             mx_symbol* const* args, mx_symbol** out) {
  MX_API_BEGIN();
  check_out(out, "out");
  const graph::Symbol& s = get_symbol(sym);
  std::vector<graph::Symbol> a = mx::capi::symbols_of(num_args, args, "args");
  std::vector<std::string> k = mx::capi::strings_of(num_args, keys, "keys");
  graph::Symbol r = s.compose(k, a, name ? std::string(name) : std::string());
  *out = new_symbol_handle(std::move(r));
  MX_API_END();
}

MX_API int mx_symbol_copy(const mx_symbol* sym, mx_symbol** out) {
  MX_API_BEGIN();
  check_out(out, "out");
  *out = new_symbol_handle(get_symbol(sym).copy());
  MX_API_END();
}

MX_API int mx_symbol_group(int num, mx_symbol* const* syms, mx_symbol** out) {
  MX_API_BEGIN();
  check_out(out, "out");
  *out = new_symbol_handle(graph::Symbol::group(mx::capi::symbols_of(num, syms, "symbols")));
  MX_API_END();
}

MX_API int mx_symbol_num_outputs(const mx_symbol* sym, size_t* out) {
  MX_API_BEGIN();
  check_out(out, "out");
  *out = get_symbol(sym).num_outputs();
  MX_API_END();
}

MX_API int mx_symbol_get_output(const mx_symbol* sym, size_t index, mx_symbol** out) {
  MX_API_BEGIN();
  check_out(out, "out");
  *out = new_symbol_handle(get_symbol(sym).output(index));
  MX_API_END();
}

MX_API int mx_symbol_get_internals(const mx_symbol* sym, mx_symbol** out) {
  MX_API_BEGIN();
  check_out(out, "out");
  *out = new_symbol_handle(get_symbol(sym).internals());
  MX_API_END();
}

MX_API int mx_symbol_get_children(const mx_symbol* sym, mx_symbol** out) {
  MX_API_BEGIN();
  check_out(out, "out");
  graph::Symbol c = get_symbol(sym).children();
  *out = c.outputs.empty() ? nullptr : new_symbol_handle(std::move(c));
  MX_API_END();
}

MX_API int mx_symbol_list(mx_symbol* sym, int which, size_t* n, const char* const** names) {
  MX_API_BEGIN();
  check_out(n, "n");
  check_out(names, "names");
  mx_symbol* h = get_mut(sym);
  std::vector<std::string> items;
  switch (which) {
    case 0: items = h->sym.list_arguments(); break;
    case 1: items = h->sym.list_outputs(); break;
    case 2: items = h->sym.list_auxiliary_states(); break;
    case 3: items = h->sym.list_inputs(); break;
    default: MX_THROW(kInvalidArgument, "mx_symbol_list: which must be 0..3, got ", which);
  }
  mx::capi::list_out(h, std::move(items), n, names);
  MX_API_END();
}

MX_API int mx_symbol_name(mx_symbol* sym, const char** name) {
  MX_API_BEGIN();
  check_out(name, "name");
  mx_symbol* h = get_mut(sym);
  h->name = h->sym.name();
  // Empty: the outputs come from several nodes (node names are never empty).
  *name = h->name.empty() ? nullptr : h->name.c_str();
  MX_API_END();
}

MX_API int mx_symbol_get_attr(mx_symbol* sym, const char* key, const char** value, int* found) {
  MX_API_BEGIN();
  check_out(value, "value");
  check_out(found, "found");
  mx_symbol* h = get_mut(sym);
  std::string v;
  if (h->sym.get_attr(mx::capi::cstr(key, "key"), &v)) {
    h->attr = std::move(v);
    *value = h->attr.c_str();
    *found = 1;
  } else {
    *value = nullptr;
    *found = 0;
  }
  MX_API_END();
}

MX_API int mx_symbol_set_attr(mx_symbol* sym, const char* key, const char* value) {
  MX_API_BEGIN();
  mx_symbol* h = get_mut(sym);
  h->sym.set_attr(mx::capi::cstr(key, "key"), mx::capi::cstr(value, "value"));
  MX_API_END();
}

MX_API int mx_symbol_list_attr(mx_symbol* sym, int recursive, size_t* n, const char* const** triples) {
  MX_API_BEGIN();
  check_out(n, "n");
  check_out(triples, "triples");
  mx_symbol* h = get_mut(sym);
  std::vector<std::vector<std::string>> rows = h->sym.list_attr(recursive != 0);
  std::vector<std::string> flat;
  flat.reserve(rows.size() * 3);
  for (auto& r : rows)
    for (auto& s : r) flat.push_back(std::move(s));
  size_t count = 0;
  mx::capi::list_out(h, std::move(flat), &count, triples);
  *n = rows.size();
  MX_API_END();
}

MX_API int mx_symbol_to_json(mx_symbol* sym, const char** json) {
  MX_API_BEGIN();
  check_out(json, "json");
  mx_symbol* h = get_mut(sym);
  h->json = graph::to_json(h->sym);
  *json = h->json.c_str();
  MX_API_END();
}

MX_API int mx_symbol_from_json(const char* json, mx_symbol** out) {
  MX_API_BEGIN();
  check_out(out, "out");
  *out = new_symbol_handle(graph::from_json(mx::capi::cstr(json, "json")));
  MX_API_END();
}

MX_API int mx_symbol_save(mx_symbol* sym, const char* path) {
  MX_API_BEGIN();
  mx_symbol* h = get_mut(sym);
  const std::string p = mx::capi::cstr(path, "path");
  std::string text = graph::to_json(h->sym);
  std::FILE* f = std::fopen(p.c_str(), "wb");
  MX_CHECK(f != nullptr, kIO, "cannot open '", p, "' for writing");
  const size_t w = std::fwrite(text.data(), 1, text.size(), f);
  const int rc = std::fclose(f);
  MX_CHECK(w == text.size() && rc == 0, kIO, "writing '", p, "' failed");
  MX_API_END();
}

MX_API int mx_symbol_load(const char* path, mx_symbol** out) {
  MX_API_BEGIN();
  check_out(out, "out");
  const std::string p = mx::capi::cstr(path, "path");
  std::FILE* f = std::fopen(p.c_str(), "rb");
  MX_CHECK(f != nullptr, kNotFound, "cannot open symbol file '", p, "'");
  std::string text;
  char buf[65536];
  size_t r;
  while ((r = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, r);
  const bool bad = std::ferror(f) != 0;
  std::fclose(f);
  MX_CHECK(!bad, kIO, "reading '", p, "' failed");
  try {
    *out = new_symbol_handle(graph::from_json(text));
  } catch (const mx::Error& e) {
    throw mx::Error(e.code(), mx::str(p, ": ", e.what()));
  }
  MX_API_END();
}

MX_API int mx_symbol_gradient(const mx_symbol* sym, int num_wrt, const char* const* wrt, mx_symbol** out) {
  MX_API_BEGIN();
  check_out(out, "out");
  const graph::Symbol& s = get_symbol(sym);
  MX_CHECK(num_wrt >= 0 && (num_wrt == 0 || wrt), kInvalidArgument, "wrt names are NULL or negative");
  std::vector<std::string> names = mx::capi::strings_of(num_wrt, wrt, "wrt");
  *out = new_symbol_handle(graph::gradient_symbol(s, names));
  MX_API_END();
}

MX_API int mx_symbol_infer_shape(mx_symbol* sym, int num, const char* const* keys, const int* ndims,
                                 const int64_t* dims, int partial, mx_infer_result** out) {
  MX_API_BEGIN();
  check_out(out, "out");
  const graph::Symbol& s = get_symbol(sym);
  MX_CHECK(num == 0 || ndims, kInvalidArgument, "ndims is NULL");
  graph::IndexedGraph g(s);
  std::vector<uint32_t> ids = mx::capi::targets_of(g, num, keys);
  std::vector<mx::Shape> shapes(g.num_entries(), mx::Shape::unknown());
  size_t off = 0;
  for (int i = 0; i < num; ++i) {
    const int nd = ndims[i];
    if (nd < 0) continue;
    MX_CHECK(nd == 0 || dims, kInvalidArgument, "dims is NULL");
    MX_CHECK(nd <= mx::Shape::kMaxDim, kShape, "input '", g.nodes[ids[i]]->name, "': ndim ", nd,
             " exceeds the maximum of ", mx::Shape::kMaxDim);
    shapes[g.entry_id(ids[i], 0)] = mx::Shape(dims + off, nd);
    off += static_cast<size_t>(nd);
  }
  bool complete = graph::infer_shapes(g, &shapes, partial != 0);
  mx_infer_result* r = mx::capi::new_result(true);
  for (uint32_t nid : g.arg_nodes) r->shapes[0].push_back(shapes[g.entry_id(nid, 0)]);
  for (uint32_t e : g.outputs) r->shapes[1].push_back(shapes[e]);
  for (uint32_t nid : g.aux_nodes) r->shapes[2].push_back(shapes[g.entry_id(nid, 0)]);
  r->complete = complete;
  *out = r;
  MX_API_END();
}

MX_API int mx_symbol_infer_type(mx_symbol* sym, int num, const char* const* keys, const int* dtypes,
                                int partial, mx_infer_result** out) {
  MX_API_BEGIN();
  check_out(out, "out");
  const graph::Symbol& s = get_symbol(sym);
  MX_CHECK(num == 0 || dtypes, kInvalidArgument, "dtypes is NULL");
  graph::IndexedGraph g(s);
  std::vector<uint32_t> ids = mx::capi::targets_of(g, num, keys);
  std::vector<mx::DType> types(g.num_entries(), mx::kUnknownDType);
  for (int i = 0; i < num; ++i) {
    if (dtypes[i] < 0) continue;
    MX_CHECK(mx::dtype_valid(dtypes[i]), kDType, "input '", g.nodes[ids[i]]->name, "': unknown dtype flag ",
             dtypes[i]);
    types[g.entry_id(ids[i], 0)] = static_cast<mx::DType>(dtypes[i]);
  }
  bool complete = graph::infer_types(g, &types, partial != 0);
  mx_infer_result* r = mx::capi::new_result(false);
  for (uint32_t nid : g.arg_nodes) r->dtypes[0].push_back(static_cast<int>(types[g.entry_id(nid, 0)]));
  for (uint32_t e : g.outputs) r->dtypes[1].push_back(static_cast<int>(types[e]));
  for (uint32_t nid : g.aux_nodes) r->dtypes[2].push_back(static_cast<int>(types[g.entry_id(nid, 0)]));
  r->complete = complete;
  *out = r;
  MX_API_END();
}

MX_API int mx_infer_result_size(const mx_infer_result* res, int which, size_t* n) {
  MX_API_BEGIN();
  check_out(n, "n");
  const mx_infer_result* r = mx::capi::get_res(res);
  MX_CHECK(which >= 0 && which <= 2, kInvalidArgument, "mx_infer_result_size: which must be 0..2, got ", which);
  *n = r->is_shape ? r->shapes[which].size() : r->dtypes[which].size();
  MX_API_END();
}

MX_API int mx_infer_result_shape(const mx_infer_result* res, int which, size_t i, int* ndim,
                                 const int64_t** dims) {
  MX_API_BEGIN();
  check_out(ndim, "ndim");
  check_out(dims, "dims");
  const mx_infer_result* r = mx::capi::get_res(res);
  MX_CHECK(r->is_shape, kInvalidArgument, "mx_infer_result_shape: the result holds dtypes, not shapes");
  MX_CHECK(which >= 0 && which <= 2, kInvalidArgument, "mx_infer_result_shape: which must be 0..2, got ", which);
  MX_CHECK(i < r->shapes[which].size(), kIndex, "mx_infer_result_shape: index ", i, " out of range (",
           r->shapes[which].size(), ")");
  const mx::Shape& s = r->shapes[which][i];
  *ndim = s.ndim();
  *dims = s.data();
  MX_API_END();
}

MX_API int mx_infer_result_dtype(const mx_infer_result* res, int which, size_t i, int* dtype) {
  MX_API_BEGIN();
  check_out(dtype, "dtype");
  const mx_infer_result* r = mx::capi::get_res(res);
  MX_CHECK(!r->is_shape, kInvalidArgument, "mx_infer_result_dtype: the result holds shapes, not dtypes");
  MX_CHECK(which >= 0 && which <= 2, kInvalidArgument, "mx_infer_result_dtype: which must be 0..2, got ", which);
  MX_CHECK(i < r->dtypes[which].size(), kIndex, "mx_infer_result_dtype: index ", i, " out of range (",
           r->dtypes[which].size(), ")");
  *dtype = r->dtypes[which][i];
  MX_API_END();
}

MX_API int mx_infer_result_complete(const mx_infer_result* res, int* complete) {
  MX_API_BEGIN();
  check_out(complete, "complete");
  *complete = mx::capi::get_res(res)->complete ? 1 : 0;
  MX_API_END();
}

MX_API void mx_infer_result_free(mx_infer_result* res) {
  if (!res || res->magic != kInferMagic) return;
  res->magic = kDeadMagic;
  for (int i = 0; i < 3; ++i) {
    std::vector<mx::Shape>().swap(res->shapes[i]);
    std::vector<int>().swap(res->dtypes[i]);
  }
  std::lock_guard<std::mutex> lk(mx::capi::g_result_mu);
  mx::capi::g_free_results->push_back(res);
}

}  // extern "C"
