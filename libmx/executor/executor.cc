// STUB: replaced by the real implementation.
#include "executor/executor.h"

#include "base/error.h"

namespace mx {
namespace exec {
#define STUB MX_THROW(kUnsupported, "executor: not implemented yet")
struct GraphExecutor::Impl {};
GraphExecutor::GraphExecutor(const graph::Symbol&, Device, std::vector<NDArray>, std::vector<NDArray>,
                             std::vector<int>, std::vector<NDArray>, ExecOptions) { STUB; }
GraphExecutor::~GraphExecutor() = default;
std::unique_ptr<GraphExecutor> GraphExecutor::simple_bind(const graph::Symbol&, Device,
                                                          const std::map<std::string, Shape>&,
                                                          const std::map<std::string, DType>&,
                                                          const std::map<std::string, int>&, ExecOptions) { STUB; }
void GraphExecutor::forward(bool) { STUB; }
void GraphExecutor::backward(const std::vector<NDArray>&) { STUB; }
const std::vector<NDArray>& GraphExecutor::outputs() const { STUB; }
const std::vector<NDArray>& GraphExecutor::args() const { STUB; }
const std::vector<NDArray>& GraphExecutor::arg_grads() const { STUB; }
const std::vector<NDArray>& GraphExecutor::aux() const { STUB; }
const graph::Symbol& GraphExecutor::symbol() const { STUB; }
const graph::MemoryPlan& GraphExecutor::memory_plan() const { STUB; }
std::unique_ptr<GraphExecutor> GraphExecutor::reshape(const std::map<std::string, Shape>&, bool, bool) const { STUB; }
}  // namespace exec
}  // namespace mx
