// Typed errors of libmx. Internal checks throw mx::Error; the C ABI maps codes to statuses.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace mx {

enum class ErrorCode : int {
  kInvalidArgument = 1,
  kShape = 2,
  kDType = 3,
  kNotFound = 4,
  kIO = 5,
  kOutOfMemory = 6,
  kUnsupported = 7,
  kInternal = 8,
  kIndex = 9,
  kHandle = 10,
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& msg) : std::runtime_error(msg), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

namespace detail {
inline void str_append(std::ostringstream&) {}
template <typename T, typename... Rest>
void str_append(std::ostringstream& os, const T& v, const Rest&... rest) {
  os << v;
  str_append(os, rest...);
}
}  // namespace detail

// Concatenates anything streamable: str("axis ", 3, " out of range").
template <typename... Args>
std::string str(const Args&... args) {
  std::ostringstream os;
  detail::str_append(os, args...);
  return os.str();
}

[[noreturn]] void throw_error(ErrorCode code, const std::string& msg);

}  // namespace mx

// MX_CHECK(cond, kShape, "a ", x, " b") throws mx::Error(kShape, "a x b") when cond is false.
#define MX_CHECK(cond, code, ...)                                          \
  do {                                                                     \
    if (!(cond)) ::mx::throw_error(::mx::ErrorCode::code, ::mx::str(__VA_ARGS__)); \
  } while (0)
#define MX_THROW(code, ...) ::mx::throw_error(::mx::ErrorCode::code, ::mx::str(__VA_ARGS__))
