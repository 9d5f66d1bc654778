// The dependency engine. Every operation is pushed with the variables it reads and writes; the
// threaded engine runs an operation once every earlier writer of what it reads, and every earlier
// reader and writer of what it writes, has finished. MX_ENGINE_TYPE=NaiveEngine runs everything
// synchronously in the pushing thread.
//
// Errors: an exception thrown by an operation is stored on every variable it writes (and passed on
// to operations that later read those variables); wait_to_read / wait_to_write rethrow it, with the
// operation's description, and wait_all rethrows the first error raised since the last wait_all.
#pragma once
#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace mx {
namespace engine {

class Task;

// One per storage block (views share it). Embedded in the block it orders.
class Var {
 public:
  Var() = default;
  Var(const Var&) = delete;
  Var& operator=(const Var&) = delete;

 private:
  friend class Engine;
  struct Request {
    Task* task;
    bool write;
  };
  std::mutex mu_;
  std::vector<Request> queue_;  // queue_[head_..] wait, in push order
  size_t head_ = 0;
  int running_reads_ = 0;
  bool running_write_ = false;
  std::exception_ptr error_;  // set by a failed writer; stays until the variable dies
};

// A unit of work. The engine owns a pushed task and deletes it after it has run and released its
// variables (what the task holds, such as storage, dies then).
class Task {
 public:
  virtual ~Task() = default;
  virtual void run() = 0;
  // Extra detail for error messages (input shapes); called only on error.
  virtual std::string describe() const { return std::string(); }
  const char* name = "";
  // Bytes of memory this task holds until it runs (its freshly allocated outputs). The engine
  // bounds the total held by queued tasks: a thread that pushes past MX_ENGINE_MAX_PENDING_MB
  // (default 512) waits until the queue has worked down to half of it, so a loop that never reads
  // a result back cannot queue unbounded memory. Engine worker threads never wait.
  int64_t held_bytes = 0;

 private:
  friend class Engine;
  static constexpr int kInline = 6;
  void add_var(Var* v, bool write);
  Var* var(int i) const { return i < kInline ? vars_[i] : more_vars_[i - kInline]; }
  bool is_write(int i) const { return i < kInline ? write_[i] : more_write_[i - kInline]; }
  Var* vars_[kInline];
  bool write_[kInline];
  std::vector<Var*> more_vars_;
  std::vector<bool> more_write_;
  int num_vars_ = 0;
  std::atomic<int> wait_{0};
  bool is_sync_ = false;
  std::exception_ptr input_error_;
};

// Pushes a task (ownership passes to the engine, also when push throws). reads and writes may
// overlap (a variable in both is a write) and hold duplicates. small: cheap enough to run in the
// pushing thread when its inputs are ready.
void push(Task* task, Var* const* reads, int num_reads, Var* const* writes, int num_writes, bool small);
// Convenience: wraps fn in a task named `name` (a string literal).
void push(std::function<void()> fn, Var* const* reads, int num_reads, Var* const* writes,
          int num_writes, const char* name, bool small);

void wait_to_read(Var* v);   // waits for pending writes; rethrows the variable's stored error
void wait_to_write(Var* v);  // waits for pending reads and writes; rethrows a stored error
void wait_all();             // waits for everything; rethrows the first new error

const char* engine_type();   // "ThreadedEngine" or "NaiveEngine"
int num_workers();

}  // namespace engine
}  // namespace mx
