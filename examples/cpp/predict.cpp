// predict: serves a model exported from Python (HybridBlock.export, mx.model.save_checkpoint,
// Module.save_checkpoint) or from C++ (mx::nn::Block::Export), with the MX C++ package.
//
//   predict PREFIX EPOCH INPUT [--shape D0,D1,...] [--input-name NAME] [--logits]
//
// Loads PREFIX-symbol.json and PREFIX-<EPOCH as %04d>.params (arg:/aux: names), binds the graph
// to the parameters and the input, runs one inference forward pass and prints, per row of the
// output (the first axis; other axes are flattened):
//
//   <row> <argmax> <p_0> ... <p_{K-1}>        softmax probabilities (%.9g), or with --logits the raw
//                                             outputs of the graph
//
// INPUT is a NumPy .npy file (little-endian float32, float64, int32, int64 or uint8, C order; the
// values are cast to float32 by libmx) or, for any other file name, raw little-endian float32 values
// whose shape --shape gives (e.g. --shape 8,20). The graph's data input is "data" (Gluon's export),
// or --input-name. Arguments that the params file lacks and whose name ends in "label" (the label
// input of SoftmaxOutput-style graphs, unused at inference) are bound to zeros; any other missing
// argument is an error.
//
// Exit status: 0 on success, 1 on an MX error (libmx's message is printed), 2 on a usage or input
// file error.
#include <mx/mx.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw UsageError("cannot open " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The value of 'key' in a .npy header dict ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }").
std::string HeaderField(const std::string& header, const std::string& key, const std::string& path) {
  size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) throw UsageError(path + ": .npy header has no '" + key + "'");
  size_t colon = header.find(':', k);
  size_t start = header.find_first_not_of(" ", colon + 1);
  if (header[start] == '(') return header.substr(start, header.find(')', start) - start + 1);
  if (header[start] == '\'') return header.substr(start + 1, header.find('\'', start + 1) - start - 1);
  return header.substr(start, header.find_first_of(",}", start) - start);
}

std::vector<int64_t> ParseDims(const std::string& text, const std::string& what) {
  std::vector<int64_t> dims;
  std::string cur;
  for (char c : text + ",") {
    if (c >= '0' && c <= '9') {
      cur += c;
    } else if (c == ',' || c == ')') {
      if (!cur.empty()) dims.push_back(std::stoll(cur));
      cur.clear();
    } else if (c != ' ' && c != '(') {
      throw UsageError("cannot read the shape " + what + " ('" + text + "')");
    }
  }
  return dims;
}

// A buffer handed to libmx zero-copy: libmx frees it with the deleter when its last array dies.
mx::NDArray WrapBytes(std::string bytes, size_t offset, const mx::Shape& shape, int dtype) {
  size_t want = static_cast<size_t>(shape.Size()) * mx::DTypeSize(dtype);
  if (bytes.size() - offset != want)
    throw UsageError("the input holds " + std::to_string(bytes.size() - offset) + " bytes of data, the shape " +
                     shape.ToString() + " of " + mx::DTypeName(dtype) + " needs " + std::to_string(want));
  auto* owner = new std::string(std::move(bytes));
  try {
    return mx::NDArray::Wrap(&(*owner)[offset], shape, dtype, [owner] { delete owner; });
  } catch (...) {
    delete owner;  // on failure nothing was taken
    throw;
  }
}

mx::NDArray LoadNpy(const std::string& path) {
  std::string bytes = ReadFile(path);
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) throw UsageError(path + " is not a .npy file");
  int major = static_cast<unsigned char>(bytes[6]);
  size_t hlen, hstart;
  if (major == 1) {
    hlen = static_cast<unsigned char>(bytes[8]) | (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    hstart = 10;
  } else {
    if (bytes.size() < 12) throw UsageError(path + ": truncated .npy header");
    hlen = 0;
    for (int i = 3; i >= 0; --i) hlen = (hlen << 8) | static_cast<unsigned char>(bytes[8 + i]);
    hstart = 12;
  }
  if (bytes.size() < hstart + hlen) throw UsageError(path + ": truncated .npy header");
  std::string header = bytes.substr(hstart, hlen);
  std::string descr = HeaderField(header, "descr", path);
  if (HeaderField(header, "fortran_order", path) != "False")
    throw UsageError(path + ": Fortran-ordered arrays are not supported (save a C-ordered array)");
  std::vector<int64_t> dims = ParseDims(HeaderField(header, "shape", path), "in " + path);
  int dtype;
  if (descr == "<f4") dtype = mx::kFloat32;
  else if (descr == "<f8") dtype = mx::kFloat64;
  else if (descr == "<i4") dtype = mx::kInt32;
  else if (descr == "<i8") dtype = mx::kInt64;
  else if (descr == "|u1") dtype = mx::kUint8;
  else throw UsageError(path + ": unsupported dtype '" + descr + "' (float32, float64, int32, int64 or uint8)");
  mx::NDArray arr = WrapBytes(std::move(bytes), hstart + hlen, mx::Shape(dims), dtype);
  return dtype == mx::kFloat32 ? arr : arr.AsType(mx::kFloat32);
}

int Usage(const char* msg) {
  if (msg) std::fprintf(stderr, "predict: %s\n", msg);
  std::fprintf(stderr, "usage: predict PREFIX EPOCH INPUT [--shape D0,D1,...] [--input-name NAME] [--logits]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> pos;
  std::string shape_text, input_name = "data";
  bool logits = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--shape" && i + 1 < argc) shape_text = argv[++i];
    else if (a == "--input-name" && i + 1 < argc) input_name = argv[++i];
    else if (a == "--logits") logits = true;
    else if (a == "-h" || a == "--help") return Usage(nullptr);
    else if (!a.empty() && a[0] == '-' && a.size() > 1) return Usage(("unknown option " + a).c_str());
    else pos.push_back(a);
  }
  if (pos.size() != 3) return Usage("expected PREFIX EPOCH INPUT");
  char* end = nullptr;
  long epoch = std::strtol(pos[1].c_str(), &end, 10);
  if (*end || epoch < 0) return Usage("EPOCH must be a non-negative integer");

  try {
    // ---- the input
    mx::NDArray input;
    const std::string& path = pos[2];
    if (path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0) {
      input = LoadNpy(path);
    } else {
      if (shape_text.empty()) throw UsageError("a raw float32 input needs --shape D0,D1,...");
      input = WrapBytes(ReadFile(path), 0, mx::Shape(ParseDims(shape_text, "of --shape")), mx::kFloat32);
    }

    // ---- the model
    char suffix[32];
    std::snprintf(suffix, sizeof(suffix), "-%04ld.params", epoch);
    mx::Symbol net = mx::Symbol::Load(pos[0] + "-symbol.json");
    std::map<std::string, mx::NDArray> params, arg_params, aux_params;
    params = mx::NDArray::LoadToMap(pos[0] + suffix);
    for (const auto& kv : params) {
      if (kv.first.compare(0, 4, "arg:") == 0) arg_params[kv.first.substr(4)] = kv.second;
      else if (kv.first.compare(0, 4, "aux:") == 0) aux_params[kv.first.substr(4)] = kv.second;
      else arg_params[kv.first] = aux_params[kv.first] = kv.second;  // plain names: either kind
    }

    // ---- bind: arguments in ListArguments() order, auxiliary states likewise
    std::vector<std::string> arg_names = net.ListArguments(), aux_names = net.ListAuxiliaryStates();
    bool has_input = false;
    for (const auto& n : arg_names) has_input = has_input || n == input_name;
    if (!has_input) throw UsageError("the graph has no input named '" + input_name + "' (use --input-name)");
    std::vector<std::vector<int64_t>> arg_shapes, aux_shapes, out_shapes;
    net.InferShapePartial({{input_name, input.GetShape()}}, &arg_shapes, &aux_shapes, &out_shapes);
    std::vector<mx::NDArray> args, aux;
    for (size_t i = 0; i < arg_names.size(); ++i) {
      const std::string& n = arg_names[i];
      if (n == input_name) {
        args.push_back(input);
      } else if (arg_params.count(n)) {
        args.push_back(arg_params[n]);
      } else if (n.size() >= 5 && n.compare(n.size() - 5, 5, "label") == 0 && !arg_shapes[i].empty()) {
        args.push_back(mx::NDArray::Zeros(mx::Shape(arg_shapes[i])));
      } else {
        throw mx::Error(MX_ERR_NOT_FOUND, "argument '" + n + "' of the graph is not in " + pos[0] + suffix);
      }
    }
    for (const auto& n : aux_names) {
      if (!aux_params.count(n)) throw mx::Error(MX_ERR_NOT_FOUND, "auxiliary state '" + n + "' is not in " + pos[0] + suffix);
      aux.push_back(aux_params[n]);
    }
    mx::Executor exec = net.Bind(mx::Context::cpu(), args, {}, {}, aux);
    exec.Forward(false);

    // ---- print one line per row
    mx::NDArray out = exec.Outputs().at(0);
    int64_t rows = out.ndim() ? out.Shape()[0] : 1;
    out = out.Reshape(mx::Shape(rows, -1));
    if (!logits) out = mx::Operator("softmax").SetParam("axis", -1).SetInput("data", out).Invoke()[0];
    out.WaitToRead();
    const float* p = out.data<float>();
    int64_t k = out.Shape()[1];
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = p + r * k;
      int64_t best = 0;
      for (int64_t j = 1; j < k; ++j)
        if (row[j] > row[best]) best = j;
      std::printf("%lld %lld", static_cast<long long>(r), static_cast<long long>(best));
      for (int64_t j = 0; j < k; ++j) std::printf(" %.9g", static_cast<double>(row[j]));
      std::printf("\n");
    }
    return 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "predict: %s\n", e.what());
    return 2;
  } catch (const mx::Error& e) {
    std::fprintf(stderr, "predict: MX error (status %d): %s\n", e.status(), e.what());
    return 1;
  }
}
