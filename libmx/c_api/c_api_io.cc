// NDArray files over the C ABI (MXNet's binary list/dict format; see ndarray/io.h).
#include <cstdlib>
#include <cstring>

#include "c_api/c_api_internal.h"
#include "ndarray/io.h"

namespace {

void collect(size_t n, mx_ndarray* const* arrays, const char* const* names, std::vector<mx::NDArray>* arrs,
             std::vector<std::string>* nm) {
  MX_CHECK(n == 0 || arrays != nullptr, kInvalidArgument, "arrays is NULL");
  for (size_t i = 0; i < n; ++i) arrs->push_back(mx::capi::get(arrays[i]));
  if (names) {
    for (size_t i = 0; i < n; ++i) {
      MX_CHECK(names[i] != nullptr, kInvalidArgument, "name ", i, " is NULL");
      nm->push_back(names[i]);
    }
  }
}

mx_ndarray_list* make_list(mx::NamedArrays&& na) {
  auto* l = new mx_ndarray_list();
  l->magic = kLiveMagic;
  l->arrays = std::move(na.arrays);
  l->names = std::move(na.names);
  return l;
}

const mx_ndarray_list& get_list(const mx_ndarray_list* l) {
  MX_CHECK(l != nullptr, kHandle, "array list handle is NULL");
  MX_CHECK(l->magic == kLiveMagic, kHandle, "array list handle is invalid or was already freed");
  return *l;
}

}  // namespace

extern "C" {

MX_API int mx_ndarray_save(const char* path, size_t n, mx_ndarray* const* arrays, const char* const* names) {
  MX_API_BEGIN();
  MX_CHECK(path != nullptr, kInvalidArgument, "path is NULL");
  std::vector<mx::NDArray> arrs;
  std::vector<std::string> nm;
  collect(n, arrays, names, &arrs, &nm);
  mx::save_arrays_to_file(path, arrs, names ? &nm : nullptr);
  MX_API_END();
}

MX_API int mx_ndarray_save_to_buffer(size_t n, mx_ndarray* const* arrays, const char* const* names, void** buf,
                                     size_t* len) {
  MX_API_BEGIN();
  mx::capi::check_out(buf, "buf");
  mx::capi::check_out(len, "len");
  std::vector<mx::NDArray> arrs;
  std::vector<std::string> nm;
  collect(n, arrays, names, &arrs, &nm);
  std::string s = mx::save_arrays_to_string(arrs, names ? &nm : nullptr);
  void* p = std::malloc(s.size() ? s.size() : 1);
  MX_CHECK(p != nullptr, kOutOfMemory, "out of memory allocating ", s.size(), " bytes");
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  *buf = p;
  *len = s.size();
  MX_API_END();
}

MX_API int mx_ndarray_load(const char* path, mx_ndarray_list** out) {
  MX_API_BEGIN();
  MX_CHECK(path != nullptr, kInvalidArgument, "path is NULL");
  mx::capi::check_out(out, "out");
  *out = make_list(mx::load_arrays_from_file(path));
  MX_API_END();
}

MX_API int mx_ndarray_load_from_buffer(const void* buf, size_t len, mx_ndarray_list** out) {
  MX_API_BEGIN();
  MX_CHECK(buf != nullptr || len == 0, kInvalidArgument, "buf is NULL");
  mx::capi::check_out(out, "out");
  *out = make_list(mx::load_arrays(static_cast<const char*>(buf), len));
  MX_API_END();
}

MX_API int mx_ndarray_list_size(const mx_ndarray_list* list, size_t* n) {
  MX_API_BEGIN();
  const auto& l = get_list(list);
  mx::capi::check_out(n, "n");
  *n = l.arrays.size();
  MX_API_END();
}

MX_API int mx_ndarray_list_get(const mx_ndarray_list* list, size_t i, mx_ndarray** arr, const char** name) {
  MX_API_BEGIN();
  const auto& l = get_list(list);
  MX_CHECK(i < l.arrays.size(), kIndex, "index ", i, " is out of range for a list of ", l.arrays.size(), " arrays");
  const char* nm = l.names.empty() ? nullptr : l.names[i].c_str();
  if (arr) *arr = mx::capi::new_handle(l.arrays[i]);
  if (name) *name = nm;
  MX_API_END();
}

MX_API void mx_ndarray_list_free(mx_ndarray_list* list) {
  if (!list || list->magic != kLiveMagic) return;
  list->magic = kDeadMagic;
  delete list;
}

MX_API void mx_buffer_free(void* buf) { std::free(buf); }

}  // extern "C"
