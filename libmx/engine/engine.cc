// Threaded and naive engines (see engine.h). Each variable keeps a FIFO of requests; a request is
// granted when it is at the front and compatible with what is running (many readers or one
// writer). An operation runs when all its requests are granted.
#include "engine/engine.h"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "base/error.h"

namespace mx {
namespace engine {

struct OprBlock;

class Var {
 public:
  struct Request {
    OprBlock* op;
    bool write;
  };
  std::mutex mu;
  std::vector<Request> queue;  // queue[head..] are waiting requests
  size_t head = 0;
  int running_reads = 0;
  bool running_write = false;
  std::exception_ptr error;  // set by a failed writer; stays until the variable dies
};

struct OprBlock {
  std::function<void()> fn;
  OpDesc desc;
  Var* inline_vars[6];
  bool inline_write[6];
  std::vector<Var*> more_vars;
  std::vector<bool> more_write;
  int num_vars = 0;
  std::atomic<int> wait{0};
  bool is_sync = false;  // a wait marker: always runs, even when an input holds an error

  void add(Var* v, bool write) {
    for (int i = 0; i < num_vars; ++i) {
      if (var(i) == v) {
        if (write) set_write(i);
        return;
      }
    }
    if (num_vars < 6) {
      inline_vars[num_vars] = v;
      inline_write[num_vars] = write;
    } else {
      more_vars.push_back(v);
      more_write.push_back(write);
    }
    ++num_vars;
  }
  Var* var(int i) const { return i < 6 ? inline_vars[i] : more_vars[i - 6]; }
  bool is_write(int i) const { return i < 6 ? inline_write[i] : more_write[i - 6]; }
  void set_write(int i) {
    if (i < 6) inline_write[i] = true;
    else more_write[i - 6] = true;
  }
};

namespace {

using ReadyList = std::vector<OprBlock*>;

// Grants waiting requests at the front of v's queue. Caller holds v->mu.
void grant(Var* v, ReadyList* ready) {
  while (v->head < v->queue.size()) {
    Var::Request r = v->queue[v->head];
    if (r.write) {
      if (v->running_write || v->running_reads > 0) break;
      v->running_write = true;
    } else {
      if (v->running_write) break;
      ++v->running_reads;
    }
    ++v->head;
    if (r.op->wait.fetch_sub(1, std::memory_order_acq_rel) == 1) ready->push_back(r.op);
    if (r.write) break;
  }
  if (v->head == v->queue.size()) {
    v->queue.clear();
    v->head = 0;
  }
}

class Engine {
 public:
  Engine() {
    const char* t = std::getenv("MX_ENGINE_TYPE");
    naive_ = t && std::strcmp(t, "NaiveEngine") == 0;
    const char* n = std::getenv("MX_CPU_WORKER_NTHREADS");
    int nw = n ? std::atoi(n) : 2;
    num_workers_ = nw < 1 ? 1 : (nw > 64 ? 64 : nw);
    const char* il = std::getenv("MX_ENGINE_INLINE");
    inline_small_ = !(il && std::strcmp(il, "0") == 0);
  }

  bool naive() const { return naive_; }
  int num_workers() const { return num_workers_; }

  void push(std::function<void()> fn, Var* const* reads, int nr, Var* const* writes, int nw,
            OpDesc desc, bool small, bool is_sync = false) {
    if (naive_ && !is_sync) {
      run_naive(fn, reads, nr, writes, nw, desc);
      return;
    }
    OprBlock* op = new OprBlock();
    op->fn = std::move(fn);
    op->desc = std::move(desc);
    op->is_sync = is_sync;
    for (int i = 0; i < nw; ++i) op->add(writes[i], true);
    for (int i = 0; i < nr; ++i) op->add(reads[i], false);
    pending_.fetch_add(1, std::memory_order_relaxed);
    op->wait.store(op->num_vars + 1, std::memory_order_relaxed);
    ReadyList ready;
    for (int i = 0; i < op->num_vars; ++i) {
      Var* v = op->var(i);
      std::lock_guard<std::mutex> lk(v->mu);
      v->queue.push_back({op, op->is_write(i)});
      grant(v, &ready);
    }
    if (op->wait.fetch_sub(1, std::memory_order_acq_rel) == 1) ready.push_back(op);
    // Appending a request can only make this op ready.
    if (!ready.empty()) {
      if (small && inline_small_) execute(op);
      else dispatch(ready);
    }
  }

  void wait_for(Var* v, bool write) {
    {
      std::lock_guard<std::mutex> lk(v->mu);
      bool busy = v->running_write || v->head < v->queue.size() || (write && v->running_reads > 0);
      if (!busy) {
        if (v->error) std::rethrow_exception(v->error);
        return;
      }
    }
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    Var* vv = v;
    push(
        [&] {
          std::lock_guard<std::mutex> lk(m);
          done = true;
          cv.notify_all();
        },
        write ? nullptr : &vv, write ? 0 : 1, write ? &vv : nullptr, write ? 1 : 0, OpDesc{"wait", {}},
        false, true);
    {
      std::unique_lock<std::mutex> lk(m);
      cv.wait(lk, [&] { return done; });
    }
    std::lock_guard<std::mutex> lk(v->mu);
    if (v->error) std::rethrow_exception(v->error);
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
  static std::exception_ptr decorate(const OpDesc& d, ErrorCode code, const char* what) {
    std::string detail;
    try {
      if (d.describe) detail = d.describe();
    } catch (...) {
    }
    std::string msg = str("Error in operator ", d.name, detail.empty() ? "" : " ", detail, ": ", what);
    return std::make_exception_ptr(Error(code, msg));
  }

  static std::exception_ptr run_guarded(OprBlock* op) {
    try {
      op->fn();
    } catch (const Error& e) {
      return decorate(op->desc, e.code(), e.what());
    } catch (const std::bad_alloc&) {
      return decorate(op->desc, ErrorCode::kOutOfMemory, "out of memory");
    } catch (const std::exception& e) {
      return decorate(op->desc, ErrorCode::kInternal, e.what());
    } catch (...) {
      return decorate(op->desc, ErrorCode::kInternal, "unknown exception");
    }
    return nullptr;
  }

  void run_naive(const std::function<void()>& fn, Var* const* reads, int nr, Var* const* writes, int nw,
                 const OpDesc& desc) {
    for (int i = 0; i < nr; ++i) {
      std::lock_guard<std::mutex> lk(reads[i]->mu);
      if (reads[i]->error) std::rethrow_exception(reads[i]->error);
    }
    (void)writes;
    (void)nw;
    OprBlock tmp;
    tmp.fn = fn;
    tmp.desc = desc;
    std::exception_ptr e = run_guarded(&tmp);
    if (e) std::rethrow_exception(e);
  }

  void execute(OprBlock* op) {
    if (op->is_sync) {
      // A wait marker: release its variables first, then wake the waiter. Waking first would let
      // the waiter free the array (and its variable) while this thread still needs the variable.
      complete(op, nullptr);
      return;
    }
    std::exception_ptr err;
    for (int i = 0; i < op->num_vars && !err; ++i) {
      Var* v = op->var(i);
      std::lock_guard<std::mutex> lk(v->mu);
      if (v->error) err = v->error;
    }
    if (!err) {
      std::exception_ptr e = run_guarded(op);
      if (e) {
        err = e;
        std::lock_guard<std::mutex> lk(err_mu_);
        if (!first_error_) first_error_ = e;
      }
    }
    complete(op, err);
  }

  void complete(OprBlock* op, const std::exception_ptr& err) {
    ReadyList ready;
    for (int i = 0; i < op->num_vars; ++i) {
      Var* v = op->var(i);
      std::lock_guard<std::mutex> lk(v->mu);
      if (op->is_write(i)) {
        v->running_write = false;
        if (err) v->error = err;
      } else {
        --v->running_reads;
      }
      grant(v, &ready);
    }
    if (op->is_sync) op->fn();  // wakes the waiter; touches nothing of the variables
    delete op;  // releases what the closure captured (storage may die here)
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lk(all_mu_);
      all_cv_.notify_all();
    }
    if (!ready.empty()) dispatch(ready);
  }

  void dispatch(const ReadyList& ready) {
    start_workers();
    {
      std::lock_guard<std::mutex> lk(q_mu_);
      for (OprBlock* op : ready) tasks_.push_back(op);
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
    for (;;) {
      OprBlock* op;
      {
        std::unique_lock<std::mutex> lk(q_mu_);
        q_cv_.wait(lk, [&] { return !tasks_.empty(); });
        op = tasks_.front();
        tasks_.pop_front();
      }
      execute(op);
    }
  }

  bool naive_ = false;
  bool inline_small_ = true;
  int num_workers_ = 2;
  std::atomic<int64_t> pending_{0};
  std::mutex all_mu_;
  std::condition_variable all_cv_;
  std::mutex err_mu_;
  std::exception_ptr first_error_;
  std::mutex q_mu_;
  std::condition_variable q_cv_;
  std::deque<OprBlock*> tasks_;
  std::once_flag started_;
};

Engine& get() {
  static Engine* e = new Engine();  // never destroyed: workers may still run at exit
  return *e;
}

}  // namespace

Var* new_var() { return new Var(); }
void delete_var(Var* v) { delete v; }

void push(std::function<void()> fn, Var* const* reads, int num_reads, Var* const* writes, int num_writes,
          OpDesc desc, bool small) {
  get().push(std::move(fn), reads, num_reads, writes, num_writes, std::move(desc), small);
}

void wait_to_read(Var* v) { get().wait_for(v, false); }
void wait_to_write(Var* v) { get().wait_for(v, true); }
void wait_all() { get().wait_all(); }
const char* engine_type() { return get().naive() ? "NaiveEngine" : "ThreadedEngine"; }
int num_workers() { return get().num_workers(); }

}  // namespace engine
}  // namespace mx
