// Where an array lives. Numbering follows MXNet (1 cpu, 2 gpu, 3 cpu_pinned).
#pragma once
#include <string>

namespace mx {

enum class DeviceType : int { kCPU = 1, kGPU = 2, kCPUPinned = 3 };

struct Device {
  DeviceType type = DeviceType::kCPU;
  int id = 0;
  bool operator==(const Device& o) const { return type == o.type && id == o.id; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  bool is_cpu() const { return type != DeviceType::kGPU; }
  static Device cpu(int id = 0) { return Device{DeviceType::kCPU, id}; }
};

// "cpu(0)", "gpu(1)", "cpu_pinned(0)".
std::string device_str(const Device& d);
// Parses MXNet's context strings ("cpu(0)", "gpu(1)", "cpu"); throws kInvalidArgument.
Device parse_device(const std::string& s);
// Throws kUnsupported ("built without CUDA") or kInvalidArgument for a device that cannot be used.
void check_device(const Device& d);

}  // namespace mx
