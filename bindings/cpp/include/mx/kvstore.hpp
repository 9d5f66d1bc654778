// MX C++ package: mx::KVStore, MXNet's single-process "local" key-value store for data-parallel
// training. Include <mx/mx.hpp> rather than this file.
#ifndef MX_CPP_KVSTORE_HPP_
#define MX_CPP_KVSTORE_HPP_

#include <functional>

#include "mx/base.hpp"
#include "mx/ndarray.hpp"
#include "mx/operator.hpp"
#include "mx/optimizer.hpp"

namespace mx {

// Semantics of MXNet's local kvstore:
//  - Init(key, value) stores a copy of value; a key is initialised once.
//  - Push(key, values) sums the values (the add_n op; one value is taken as is) and then, with an
//    updater or optimizer set, calls updater(key, sum, &stored); without one the sum replaces the
//    stored value.
//  - Pull(key, outs) copies the stored value into every output array.
// Keys are all ints or all strings (strings are numbered in order of first Init, as MXNet does).
// Pushes and pulls are asynchronous libmx ops; they are ordered by the arrays they touch.
class KVStore {
 public:
  using Updater = std::function<void(int key, const NDArray& recv, NDArray* local)>;

  // "local" (also "local_update_cpu" / "local_allreduce_cpu", MXNet's names for the same thing on CPU).
  explicit KVStore(const std::string& type = "local") : type_(type) {
    if (type != "local" && type != "local_update_cpu" && type != "local_allreduce_cpu")
      detail::Fail(MX_ERR_UNSUPPORTED, "KVStore: type '" + type + "' is not supported by the C++ package (only 'local')");
  }
  const std::string& GetType() const { return type_; }
  int GetRank() const { return 0; }
  int GetNumWorkers() const { return 1; }

  // ---- int keys
  void Init(int key, const NDArray& value) {
    CheckKeyKind(false);
    if (store_.count(key)) detail::Fail(MX_ERR_INVALID_ARGUMENT, "KVStore: duplicate init of key " + std::to_string(key));
    store_[key] = value.Copy();
  }
  void Init(const std::vector<int>& keys, const std::vector<NDArray>& values) {
    CheckSizes(keys.size(), values.size(), "Init");
    for (size_t i = 0; i < keys.size(); ++i) Init(keys[i], values[i]);
  }
  void Push(int key, const NDArray& value, int priority = 0) { Push(key, std::vector<NDArray>{value}, priority); }
  void Push(int key, const std::vector<NDArray>& values, int priority = 0) {
    (void)priority;
    CheckKeyKind(false);
    PushInt(key, values);
  }
  // Values of the same key (keys may repeat) are summed together.
  void Push(const std::vector<int>& keys, const std::vector<NDArray>& values, int priority = 0) {
    CheckSizes(keys.size(), values.size(), "Push");
    std::map<int, std::vector<NDArray>> grouped;
    std::vector<int> order;
    for (size_t i = 0; i < keys.size(); ++i) {
      if (!grouped.count(keys[i])) order.push_back(keys[i]);
      grouped[keys[i]].push_back(values[i]);
    }
    for (int k : order) Push(k, grouped[k], priority);
  }
  void Pull(int key, NDArray* out, int priority = 0) const { Pull(key, std::vector<NDArray*>{out}, priority); }
  void Pull(int key, const std::vector<NDArray*>& outs, int priority = 0) const {
    (void)priority;
    CheckKeyKind(false);
    const NDArray& v = Stored(key);
    for (NDArray* o : outs) {
      if (!o || o->IsNone()) detail::Fail(MX_ERR_INVALID_ARGUMENT, "KVStore::Pull: empty output array");
      v.CopyTo(o);
    }
  }
  void Pull(const std::vector<int>& keys, std::vector<NDArray>* outs, int priority = 0) const {
    if (!outs) detail::Fail(MX_ERR_INVALID_ARGUMENT, "KVStore::Pull: null output list");
    CheckSizes(keys.size(), outs->size(), "Pull");
    for (size_t i = 0; i < keys.size(); ++i) Pull(keys[i], &(*outs)[i], priority);
  }
  // Push then pull of the same key.
  void PushPull(int key, const std::vector<NDArray>& values, const std::vector<NDArray*>& outs, int priority = 0) {
    Push(key, values, priority);
    Pull(key, outs, priority);
  }

  // ---- string keys
  void Init(const std::string& key, const NDArray& value) {
    CheckKeyKind(true);
    if (str_keys_.count(key)) detail::Fail(MX_ERR_INVALID_ARGUMENT, "KVStore: duplicate init of key '" + key + "'");
    int id = static_cast<int>(str_keys_.size());
    str_keys_[key] = id;
    store_[id] = value.Copy();
  }
  void Push(const std::string& key, const std::vector<NDArray>& values, int priority = 0) {
    (void)priority;
    CheckKeyKind(true);
    PushInt(StrKey(key), values);
  }
  void Push(const std::string& key, const NDArray& value, int priority = 0) {
    Push(key, std::vector<NDArray>{value}, priority);
  }
  void Pull(const std::string& key, NDArray* out, int priority = 0) const {
    (void)priority;
    CheckKeyKind(true);
    if (!out || out->IsNone()) detail::Fail(MX_ERR_INVALID_ARGUMENT, "KVStore::Pull: empty output array");
    Stored(StrKey(key)).CopyTo(out);
  }

  // ---- updates
  // The optimizer updates the stored weight of a key with the pushed sum: optimizer->Update(key,
  // stored, sum). The store owns it.
  void SetOptimizer(std::unique_ptr<Optimizer> optimizer) {
    if (!optimizer) detail::Fail(MX_ERR_INVALID_ARGUMENT, "KVStore::SetOptimizer: null optimizer");
    std::shared_ptr<Optimizer> opt(std::move(optimizer));
    updater_ = [opt](int key, const NDArray& recv, NDArray* local) { opt->Update(key, *local, recv); };
  }
  void SetUpdater(Updater updater) { updater_ = std::move(updater); }

 private:
  void PushInt(int key, const std::vector<NDArray>& values) {
    if (values.empty()) detail::Fail(MX_ERR_INVALID_ARGUMENT, "KVStore::Push: no values");
    NDArray& stored = StoredMutable(key);
    NDArray merged = values.size() == 1 ? values[0] : Operator("add_n")(values).Invoke()[0];
    if (updater_) {
      updater_(key, merged, &stored);
    } else {
      merged.CopyTo(&stored);
    }
  }
  const NDArray& Stored(int key) const {
    auto it = store_.find(key);
    if (it == store_.end()) detail::Fail(MX_ERR_NOT_FOUND, "KVStore: key " + KeyName(key) + " was not initialised");
    return it->second;
  }
  NDArray& StoredMutable(int key) {
    auto it = store_.find(key);
    if (it == store_.end()) detail::Fail(MX_ERR_NOT_FOUND, "KVStore: key " + KeyName(key) + " was not initialised");
    return it->second;
  }
  int StrKey(const std::string& key) const {
    auto it = str_keys_.find(key);
    if (it == str_keys_.end()) detail::Fail(MX_ERR_NOT_FOUND, "KVStore: key '" + key + "' was not initialised");
    return it->second;
  }
  std::string KeyName(int key) const {
    for (const auto& kv : str_keys_)
      if (kv.second == key) return "'" + kv.first + "'";
    return std::to_string(key);
  }
  void CheckKeyKind(bool str) const {
    if (store_.empty()) return;
    if (str != !str_keys_.empty())
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "KVStore: int and string keys cannot be mixed in one store");
  }
  static void CheckSizes(size_t nk, size_t nv, const char* what) {
    if (nk != nv)
      detail::Fail(MX_ERR_INVALID_ARGUMENT, std::string("KVStore::") + what + ": " + std::to_string(nk) + " keys, " +
                                                std::to_string(nv) + " values");
  }

  std::string type_;
  std::map<int, NDArray> store_;
  std::map<std::string, int> str_keys_;
  Updater updater_;
};

}  // namespace mx

#endif  // MX_CPP_KVSTORE_HPP_
