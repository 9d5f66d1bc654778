// The dependency engine. Every operation is pushed with the variables it reads and writes; the
// threaded engine runs an operation once every earlier writer of what it reads, and every earlier
// reader and writer of what it writes, has finished. MX_ENGINE_TYPE=NaiveEngine runs everything
// synchronously in the pushing thread.
//
// Errors: an exception thrown by an operation is stored on every variable it writes (and passed on
// to operations that later read those variables); wait_to_read / wait_to_write rethrow it, with the
// operation's description, and wait_all rethrows the first error raised since the last wait_all.
#pragma once
#include <functional>
#include <string>

namespace mx {
namespace engine {

class Var;  // one per storage block; views share it

Var* new_var();
// Frees a variable. The caller guarantees no pending operation uses it (storage blocks are kept
// alive by the operations that use them, so the last owner dropping the block satisfies this).
void delete_var(Var* v);

struct OpDesc {
  const char* name = "";                      // op name, for error messages
  std::function<std::string()> describe;       // extra detail (input shapes), called only on error
};

// Pushes fn. reads and writes may overlap (a variable in both is a write) and hold duplicates.
// small: the op is cheap enough to run in the pushing thread when its inputs are ready.
void push(std::function<void()> fn, Var* const* reads, int num_reads, Var* const* writes,
          int num_writes, OpDesc desc, bool small);

void wait_to_read(Var* v);   // waits for pending writes; rethrows the variable's stored error
void wait_to_write(Var* v);  // waits for pending reads and writes; rethrows a stored error
void wait_all();             // waits for everything; rethrows the first new error

const char* engine_type();   // "ThreadedEngine" or "NaiveEngine"
int num_workers();

}  // namespace engine
}  // namespace mx
