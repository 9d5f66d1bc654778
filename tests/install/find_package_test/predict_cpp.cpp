// Predicts with a model exported by MXNet or MX (symbol JSON + params) through the installed C++
// package (<mx/mx.hpp>), as a program linked to an installed libmx does:
//
//   predict_cpp <symbol.json> <params> <input.npy> <output.f32>
//
// Same contract as predict_c.c: a float32 C-order .npy in; output 0 written as raw little-endian
// float32 and its shape printed as "shape d0 d1 ..."; exit status 0, or 1 with the mx::Error message
// (libmx's) on stderr. Uses mx::Symbol::Load, mx::NDArray::Load, a zero-copy input (NDArray::Wrap
// with a deleter), Symbol::SimpleBind / Executor::Forward, data() after WaitToRead(), and one
// generated op (mx::op::sum) to check the package's mx/ops.hpp.
#include <mx/mx.hpp>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// A float32 C-order .npy: shape and values (copied into a malloc'd buffer owned by the caller).
float* ReadNpy(const std::string& path, std::vector<int64_t>* shape, size_t* count) {
  const std::string buf = ReadFile(path);
  if (buf.size() < 12 || buf.compare(0, 6, "\x93NUMPY") != 0) throw std::runtime_error(path + ": not a .npy file");
  const auto byte = [&](size_t i) { return static_cast<size_t>(static_cast<unsigned char>(buf[i])); };
  size_t hlen, off;
  if (buf[6] == 1) {
    hlen = byte(8) | (byte(9) << 8);
    off = 10;
  } else {
    hlen = byte(8) | (byte(9) << 8) | (byte(10) << 16) | (byte(11) << 24);
    off = 12;
  }
  if (off + hlen > buf.size()) throw std::runtime_error(path + ": truncated header");
  const std::string hdr = buf.substr(off, hlen);
  if (hdr.find("'descr': '<f4'") == std::string::npos || hdr.find("'fortran_order': False") == std::string::npos)
    throw std::runtime_error(path + ": not a float32 C-order array");
  size_t p = hdr.find("'shape': (");
  if (p == std::string::npos) throw std::runtime_error(path + ": no shape");
  p += 10;
  *count = 1;
  while (p < hdr.size() && hdr[p] != ')') {
    if (hdr[p] >= '0' && hdr[p] <= '9') {
      size_t end = p;
      const int64_t v = std::stoll(hdr.substr(p), &end);
      shape->push_back(v);
      *count *= static_cast<size_t>(v);
      p += end;
    } else {
      ++p;
    }
  }
  if (off + hlen + *count * sizeof(float) > buf.size()) throw std::runtime_error(path + ": truncated data");
  float* data = static_cast<float*>(std::malloc(*count * sizeof(float) + 1));
  if (!data) throw std::runtime_error("out of memory");
  std::memcpy(data, buf.data() + off + hlen, *count * sizeof(float));
  return data;
}

int Run(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: " << argv[0] << " <symbol.json> <params> <input.npy> <output.f32>\n";
    return 2;
  }
  const mx::Symbol net = mx::Symbol::Load(argv[1]);
  const std::map<std::string, mx::NDArray> params = mx::NDArray::LoadToMap(argv[2]);

  std::vector<int64_t> in_shape;
  size_t in_count = 0;
  float* in_data = ReadNpy(argv[3], &in_shape, &in_count);
  std::atomic<bool> freed{false};
  std::map<std::string, mx::NDArray> args, aux;
  // Zero-copy: libmx owns in_data from here on and frees it through the deleter.
  args["data"] = mx::NDArray::Wrap(in_data, mx::Shape(in_shape), [in_data, &freed] {
    std::free(in_data);
    freed = true;
  });

  std::map<std::string, mx::OpReqType> no_grad;
  for (const std::string& name : net.ListArguments()) {
    no_grad[name] = mx::kNullOp;
    if (name == "data") continue;
    auto it = params.find("arg:" + name);
    // Output layers' labels (SoftmaxOutput's ...) are not read by inference: SimpleBind zero-fills them.
    if (it != params.end()) {
      args[name] = it->second;
    } else if (name.size() < 6 || name.compare(name.size() - 6, 6, "_label") != 0) {
      throw std::runtime_error("argument '" + name + "' is not in " + argv[2]);
    }
  }
  for (const std::string& name : net.ListAuxiliaryStates()) {
    auto it = params.find("aux:" + name);
    if (it == params.end()) throw std::runtime_error("auxiliary state '" + name + "' is not in " + argv[2]);
    aux[name] = it->second;
  }

  {
    mx::Executor exe = net.SimpleBind(mx::Context::cpu(), args, {}, no_grad, aux);
    exe.Forward(false);
    mx::NDArray out = exe.Outputs().at(0);
    out.WaitToRead();
    const float* values = out.data<float>();
    const mx::Shape shape = out.Shape();
    std::printf("shape");
    for (int64_t d : shape) std::printf(" %lld", static_cast<long long>(d));
    std::printf("\n");

    std::FILE* f = std::fopen(argv[4], "wb");
    if (!f || std::fwrite(values, sizeof(float), out.Size(), f) != out.Size() || std::fclose(f) != 0)
      throw std::runtime_error(std::string("cannot write ") + argv[4]);

    // A generated op over the result: mx::op::sum equals the sum of the values read back.
    double host_sum = 0;
    for (size_t i = 0; i < out.Size(); ++i) host_sum += values[i];
    const double op_sum = mx::op::sum(out).ToVector<float>().at(0);
    if (std::fabs(op_sum - host_sum) > 1e-3 * (1 + std::fabs(host_sum)))
      throw std::runtime_error("mx::op::sum disagrees with the values read back");
    args.clear();
  }
  mx::WaitAll();
  // The executor and every array over the input are gone: the deleter has run.
  if (!freed) throw std::runtime_error("the zero-copy input's deleter did not run");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const mx::Error& e) {
    std::cerr << "predict_cpp: mx::Error (status " << e.status() << "): " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "predict_cpp: " << e.what() << "\n";
  }
  return 1;
}
