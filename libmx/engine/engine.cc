// Threaded and naive engines (see engine.h). Each variable keeps a FIFO of requests; a request is
// granted when it is at the front and compatible with what is running (many readers or one
// writer). A task runs when all its requests are granted. A request that can be granted at push
// time never enters the queue, so a small op on idle arrays costs a few uncontended locks.
#include "engine/engine.h"

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <new>
#include <thread>

#include <pthread.h>

#include "base/error.h"

namespace mx {
namespace engine {

void Task::add_var(Var* v, bool write) {
  for (int i = 0; i < num_vars_; ++i) {
    if (var(i) == v) {
      if (write) {
        if (i < kInline) write_[i] = true;
        else more_write_[i - kInline] = true;
      }
      return;
    }
  }
  if (num_vars_ < kInline) {
    vars_[num_vars_] = v;
    write_[num_vars_] = write;
  } else {
    more_vars_.push_back(v);
    more_write_.push_back(write);
  }
  ++num_vars_;
}

namespace {

class FnTask : public Task {
 public:
  explicit FnTask(std::function<void()> fn) : fn_(std::move(fn)) {}
  void run() override {
    if (fn_) fn_();
  }

 private:
  std::function<void()> fn_;
};

// A wait marker: wakes the waiting thread once the variable's earlier work is done. The mutex,
// condition and flag live on the waiter's stack; run() returns before the waiter can leave.
class SyncTask : public Task {
 public:
  SyncTask(std::mutex* mu, std::condition_variable* cv, bool* done) : mu_(mu), cv_(cv), done_(done) {}
  void run() override {
    std::lock_guard<std::mutex> lk(*mu_);
    *done_ = true;
    cv_->notify_all();
  }

 private:
  std::mutex* mu_;
  std::condition_variable* cv_;
  bool* done_;
};

}  // namespace

using ReadyList = std::vector<Task*>;

thread_local bool t_is_worker = false;  // engine worker threads never wait for back-pressure

class Engine {
 public:
  // forked_child: a child of a process whose thread may own a GNU OpenMP team, which cannot be
  // used after fork (it hangs); the child's ops go to its own fresh workers instead (small ops,
  // which run no parallel loops, still run inline), unless MX_ENGINE_INLINE=all insists.
  explicit Engine(bool forked_child = false) {
    const char* t = std::getenv("MX_ENGINE_TYPE");
    naive_ = t && std::strcmp(t, "NaiveEngine") == 0;
    // On a small machine (<= 4 hardware threads) a worker that runs an op with its own OpenMP
    // team competes with the pushing thread and the other workers' teams for the few cores, and
    // handing each op of a dependent chain to a worker costs a wake-up: measured on 2 cores, a
    // training step runs 1.5-1.8x faster when ready ops run in the pushing thread with one
    // worker for the rest. Larger machines keep MXNet's defaults (2 workers, small ops inline).
    const unsigned hw = std::thread::hardware_concurrency();
    const bool small_machine = hw > 0 && hw <= 4;
    const char* n = std::getenv("MX_CPU_WORKER_NTHREADS");
    int nw = n ? std::atoi(n) : (small_machine ? 1 : 2);
    num_workers_ = nw < 1 ? 1 : (nw > 64 ? 64 : nw);
    const char* il = std::getenv("MX_ENGINE_INLINE");
    if (il && std::strcmp(il, "0") == 0) {
      inline_small_ = false;
    } else if (il && std::strcmp(il, "all") == 0) {
      inline_all_ = true;
    } else if (!il || std::strcmp(il, "auto") == 0) {
      inline_all_ = small_machine && !forked_child;
    }  // "1" / "small": small ops only
    const char* mb = std::getenv("MX_ENGINE_MAX_PENDING_MB");
    const long long lim = mb ? std::atoll(mb) : 512;
    max_held_ = (lim > 0 ? lim : 512) << 20;
  }

  bool naive() const { return naive_; }
  int num_workers() const { return num_workers_; }

  void push(Task* task, Var* const* reads, int nr, Var* const* writes, int nw, bool small) {
    std::unique_ptr<Task> owned(task);
    if (naive_ && !task->is_sync_) {
      run_naive(task, reads, nr);
      return;
    }
    for (int i = 0; i < nw; ++i) task->add_var(writes[i], true);
    for (int i = 0; i < nr; ++i) task->add_var(reads[i], false);
    owned.release();
    pending_.fetch_add(1, std::memory_order_relaxed);
    const int64_t held = task->held_bytes;
    if (held > 0) held_.fetch_add(held, std::memory_order_relaxed);
    task->wait_.store(task->num_vars_ + 1, std::memory_order_relaxed);
    bool all_immediate = true;
    for (int i = 0; i < task->num_vars_; ++i) {
      Var* v = task->var(i);
      bool w = task->is_write(i);
      std::lock_guard<std::mutex> lk(v->mu_);
      bool idle_queue = v->head_ == v->queue_.size();
      if (idle_queue && !v->running_write_ && (!w || v->running_reads_ == 0)) {
        if (w) v->running_write_ = true;
        else ++v->running_reads_;
        task->wait_.fetch_sub(1, std::memory_order_relaxed);
        if (v->error_ && !task->input_error_) task->input_error_ = v->error_;
      } else {
        v->queue_.push_back({task, w});
        all_immediate = false;
      }
    }
    if (task->wait_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      if ((small || inline_all_) && inline_small_ && all_immediate) execute(task, true);
      else dispatch_one(task);
    }
    // Back-pressure (the task is queued; every queued task can finish without this thread).
    if (held > 0 && !t_is_worker && held_.load(std::memory_order_acquire) > max_held_) {
      std::unique_lock<std::mutex> lk(held_mu_);
      held_cv_.wait(lk, [&] { return held_.load(std::memory_order_acquire) <= max_held_ / 2; });
    }
  }

  void wait_for(Var* v, bool write) {
    {
      std::lock_guard<std::mutex> lk(v->mu_);
      bool busy = v->running_write_ || v->head_ < v->queue_.size() || (write && v->running_reads_ > 0);
      if (!busy) {
        if (v->error_) std::rethrow_exception(v->error_);
        return;
      }
    }
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    auto* sync = new SyncTask(&mu, &cv, &done);
    sync->is_sync_ = true;
    sync->name = "wait";
    push(sync, write ? nullptr : &v, write ? 0 : 1, write ? &v : nullptr, write ? 1 : 0, false);
    {
      std::unique_lock<std::mutex> lk(mu);
      cv.wait(lk, [&] { return done; });
    }
    std::lock_guard<std::mutex> lk(v->mu_);
    if (v->error_) std::rethrow_exception(v->error_);
  }

  // Waits until nothing is pending, keeping any error for the next wait_all (used before fork).
  void drain() {
    std::unique_lock<std::mutex> lk(all_mu_);
    all_cv_.wait(lk, [&] { return pending_.load(std::memory_order_acquire) == 0; });
  }

  void wait_all() {
    {
      std::unique_lock<std::mutex> lk(all_mu_);
      all_cv_.wait(lk, [&] { return pending_.load(std::memory_order_acquire) == 0; });
    }
    std::exception_ptr e;
    {
      std::lock_guard<std::mutex> lk(err_mu_);
      std::swap(e, first_error_);
    }
    if (e) std::rethrow_exception(e);
  }

 private:
  static std::exception_ptr decorate(const Task* t, ErrorCode code, const char* what) {
    std::string detail;
    try {
      detail = t->describe();
    } catch (...) {
    }
    std::string msg = str("Error in operator ", t->name, detail.empty() ? "" : " ", detail, ": ", what);
    return std::make_exception_ptr(Error(code, msg));
  }

  static std::exception_ptr run_guarded(Task* t) {
    try {
      t->run();
    } catch (const Error& e) {
      return decorate(t, e.code(), e.what());
    } catch (const std::bad_alloc&) {
      return decorate(t, ErrorCode::kOutOfMemory, "out of memory");
    } catch (const std::exception& e) {
      return decorate(t, ErrorCode::kInternal, e.what());
    } catch (...) {
      return decorate(t, ErrorCode::kInternal, "unknown exception");
    }
    return nullptr;
  }

  void run_naive(Task* task, Var* const* reads, int nr) {
    for (int i = 0; i < nr; ++i) {
      std::lock_guard<std::mutex> lk(reads[i]->mu_);
      if (reads[i]->error_) std::rethrow_exception(reads[i]->error_);
    }
    std::exception_ptr e = run_guarded(task);
    if (e) std::rethrow_exception(e);
  }

  // Runs a task whose requests are all granted. inputs_checked: input_error_ is complete (every
  // grant happened in push, on this thread).
  void execute(Task* task, bool inputs_checked) {
    if (task->is_sync_) {
      // Release the variable first, then wake the waiter: waking first would let the waiter free
      // the array (and its variable) while this thread still needs the variable.
      complete(task, nullptr);
      return;
    }
    std::exception_ptr err = task->input_error_;
    if (!inputs_checked) {
      for (int i = 0; i < task->num_vars_ && !err; ++i) {
        Var* v = task->var(i);
        std::lock_guard<std::mutex> lk(v->mu_);
        if (v->error_) err = v->error_;
      }
    }
    if (!err) {
      std::exception_ptr e = run_guarded(task);
      if (e) {
        err = e;
        std::lock_guard<std::mutex> lk(err_mu_);
        if (!first_error_) first_error_ = e;
      }
    }
    complete(task, err);
  }

  // Grants waiting requests at the front of v's queue. Caller holds v->mu_.
  static void grant(Var* v, ReadyList* ready) {
    while (v->head_ < v->queue_.size()) {
      Var::Request r = v->queue_[v->head_];
      if (r.write) {
        if (v->running_write_ || v->running_reads_ > 0) break;
        v->running_write_ = true;
      } else {
        if (v->running_write_) break;
        ++v->running_reads_;
      }
      ++v->head_;
      if (r.task->wait_.fetch_sub(1, std::memory_order_acq_rel) == 1) ready->push_back(r.task);
      if (r.write) break;
    }
    if (v->head_ == v->queue_.size()) {
      v->queue_.clear();
      v->head_ = 0;
    }
  }

  void complete(Task* task, const std::exception_ptr& err) {
    ReadyList ready;
    for (int i = 0; i < task->num_vars_; ++i) {
      Var* v = task->var(i);
      std::lock_guard<std::mutex> lk(v->mu_);
      if (task->is_write(i)) {
        v->running_write_ = false;
        if (err) v->error_ = err;
      } else {
        --v->running_reads_;
      }
      if (v->head_ < v->queue_.size()) grant(v, &ready);
    }
    if (task->is_sync_) run_guarded(task);  // wakes the waiter; touches none of the variables
    const int64_t held = task->held_bytes;
    delete task;  // releases what the task holds (storage may die here)
    if (held > 0) {
      const int64_t now = held_.fetch_sub(held, std::memory_order_acq_rel) - held;
      if (now <= max_held_ / 2 && now + held > max_held_ / 2) {
        std::lock_guard<std::mutex> lk(held_mu_);
        held_cv_.notify_all();
      }
    }
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lk(all_mu_);
      all_cv_.notify_all();
    }
    if (!ready.empty()) dispatch(ready);
  }

  void dispatch_one(Task* t) {
    start_workers();
    {
      std::lock_guard<std::mutex> lk(q_mu_);
      tasks_.push_back(t);
    }
    q_cv_.notify_one();
  }

  void dispatch(const ReadyList& ready) {
    start_workers();
    {
      std::lock_guard<std::mutex> lk(q_mu_);
      for (Task* t : ready) tasks_.push_back(t);
    }
    if (ready.size() == 1) q_cv_.notify_one();
    else q_cv_.notify_all();
  }

  void start_workers() {
    std::call_once(started_, [this] {
      for (int i = 0; i < num_workers_; ++i) std::thread([this] { worker(); }).detach();
    });
  }

  void worker() {
    t_is_worker = true;
    for (;;) {
      Task* t;
      {
        std::unique_lock<std::mutex> lk(q_mu_);
        q_cv_.wait(lk, [&] { return !tasks_.empty(); });
        t = tasks_.front();
        tasks_.pop_front();
      }
      execute(t, false);
    }
  }

  bool naive_ = false;
  bool inline_small_ = true;
  bool inline_all_ = false;  // MX_ENGINE_INLINE=all: any op whose inputs are ready runs in the pusher
  int num_workers_ = 2;
  std::atomic<int64_t> pending_{0};
  std::atomic<int64_t> held_{0};  // held_bytes of queued tasks
  int64_t max_held_ = int64_t(512) << 20;
  std::mutex held_mu_;
  std::condition_variable held_cv_;
  std::mutex all_mu_;
  std::condition_variable all_cv_;
  std::mutex err_mu_;
  std::exception_ptr first_error_;
  std::mutex q_mu_;
  std::condition_variable q_cv_;
  std::deque<Task*> tasks_;
  std::once_flag started_;
};

namespace {

// The engine is never destroyed: workers may still run at exit. A forked child has none of the
// parent's worker threads, so it gets a fresh engine (the parent drains its work before fork, so
// every variable is idle in the child).
std::atomic<Engine*> g_engine{nullptr};
std::once_flag g_engine_once;

void before_fork() {
  if (Engine* e = g_engine.load(std::memory_order_acquire)) e->drain();
}
void in_child() {
  if (g_engine.load(std::memory_order_acquire)) g_engine.store(new Engine(true), std::memory_order_release);
}

Engine& get() {
  Engine* e = g_engine.load(std::memory_order_acquire);
  if (e) return *e;
  std::call_once(g_engine_once, [] {
    g_engine.store(new Engine(), std::memory_order_release);
    pthread_atfork(before_fork, nullptr, in_child);
  });
  return *g_engine.load(std::memory_order_acquire);
}

}  // namespace

void push(Task* task, Var* const* reads, int num_reads, Var* const* writes, int num_writes, bool small) {
  get().push(task, reads, num_reads, writes, num_writes, small);
}

void push(std::function<void()> fn, Var* const* reads, int num_reads, Var* const* writes, int num_writes,
          const char* name, bool small) {
  auto* t = new FnTask(std::move(fn));
  t->name = name;
  get().push(t, reads, num_reads, writes, num_writes, small);
}

void wait_to_read(Var* v) { get().wait_for(v, false); }
void wait_to_write(Var* v) { get().wait_for(v, true); }
void wait_all() { get().wait_all(); }
const char* engine_type() { return get().naive() ? "NaiveEngine" : "ThreadedEngine"; }
int num_workers() { return get().num_workers(); }

}  // namespace engine
}  // namespace mx
