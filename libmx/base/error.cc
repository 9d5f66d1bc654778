#include "base/error.h"

namespace mx {
void throw_error(ErrorCode code, const std::string& msg) { throw Error(code, msg); }
}  // namespace mx
