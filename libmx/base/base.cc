// Small helpers of base/: dtype names, device strings, shape printing.
#include <cctype>
#include <cstdlib>

#include "base/device.h"
#include "base/dtype.h"
#include "base/shape.h"

namespace mx {

bool dtype_valid(int flag) {
  return (flag >= 0 && flag <= 7) || flag == 12;
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kFloat32: return 4;
    case DType::kFloat64: return 8;
    case DType::kFloat16: return 2;
    case DType::kBFloat16: return 2;
    case DType::kUInt8: return 1;
    case DType::kInt8: return 1;
    case DType::kInt32: return 4;
    case DType::kInt64: return 8;
    case DType::kBool: return 1;
  }
  MX_THROW(kDType, "unknown dtype flag ", static_cast<int>(t));
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kFloat16: return "float16";
    case DType::kBFloat16: return "bfloat16";
    case DType::kUInt8: return "uint8";
    case DType::kInt8: return "int8";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kBool: return "bool";
  }
  return "unknown";
}

DType parse_dtype(const std::string& raw) {
  std::string s;
  for (char c : raw)
    if (c != '\'' && c != '"' && !std::isspace(static_cast<unsigned char>(c))) s += c;
  if (s == "float32" || s == "float" || s == "f4") return DType::kFloat32;
  if (s == "float64" || s == "double" || s == "f8") return DType::kFloat64;
  if (s == "float16" || s == "half" || s == "f2") return DType::kFloat16;
  if (s == "bfloat16") return DType::kBFloat16;
  if (s == "uint8") return DType::kUInt8;
  if (s == "int8") return DType::kInt8;
  if (s == "int32") return DType::kInt32;
  if (s == "int64") return DType::kInt64;
  if (s == "bool" || s == "bool_") return DType::kBool;
  MX_THROW(kDType, "unknown dtype '", raw,
           "' (expected float32, float64, float16, bfloat16, uint8, int8, int32, int64 or bool)");
}

bool dtype_is_float(DType t) {
  return t == DType::kFloat32 || t == DType::kFloat64 || t == DType::kFloat16 || t == DType::kBFloat16;
}

std::string Shape::str() const {
  std::string s = "(";
  for (int i = 0; i < ndim_; ++i) {
    if (i) s += ", ";
    s += std::to_string(d_[i]);
  }
  if (ndim_ == 1) s += ",";
  return s + ")";
}

int normalize_axis(int axis, int ndim) {
  MX_CHECK(axis >= -ndim && axis < ndim, kInvalidArgument, "axis ", axis,
           " is out of range for an array of ndim ", ndim);
  return axis < 0 ? axis + ndim : axis;
}

std::string device_str(const Device& d) {
  switch (d.type) {
    case DeviceType::kCPU: return str("cpu(", d.id, ")");
    case DeviceType::kGPU: return str("gpu(", d.id, ")");
    case DeviceType::kCPUPinned: return str("cpu_pinned(", d.id, ")");
  }
  return "unknown";
}

Device parse_device(const std::string& raw) {
  std::string s;
  for (char c : raw)
    if (c != '\'' && c != '"' && !std::isspace(static_cast<unsigned char>(c))) s += c;
  Device d;
  std::string kind = s;
  int id = 0;
  auto lp = s.find('(');
  if (lp != std::string::npos) {
    MX_CHECK(s.back() == ')', kInvalidArgument, "cannot parse device '", raw, "'");
    kind = s.substr(0, lp);
    std::string num = s.substr(lp + 1, s.size() - lp - 2);
    char* endp = nullptr;
    long v = std::strtol(num.c_str(), &endp, 10);
    MX_CHECK(!num.empty() && *endp == 0 && v >= 0 && v < 1024, kInvalidArgument,
             "cannot parse device '", raw, "'");
    id = static_cast<int>(v);
  }
  if (kind == "cpu") d.type = DeviceType::kCPU;
  else if (kind == "gpu") d.type = DeviceType::kGPU;
  else if (kind == "cpu_pinned") d.type = DeviceType::kCPUPinned;
  else MX_THROW(kInvalidArgument, "unknown device '", raw, "' (expected cpu(i), gpu(i) or cpu_pinned(i))");
  d.id = id;
  return d;
}

void check_device(const Device& d) {
  if (d.type == DeviceType::kGPU) {
#ifndef MX_USE_CUDA
    MX_THROW(kUnsupported, "device ", device_str(d), " requested but MX was built without CUDA");
#endif
  }
  MX_CHECK(d.id >= 0, kInvalidArgument, "device id must be >= 0, got ", d.id);
  if (d.type != DeviceType::kGPU)
    MX_CHECK(d.id == 0 || d.type == DeviceType::kCPU, kInvalidArgument, "bad device ", device_str(d));
}

}  // namespace mx
