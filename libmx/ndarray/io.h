// NDArray files in MXNet's binary format (`mx.nd.save` / `.params`): a list of arrays with
// optional names.
//
// Writing: the list header (magic 0x112), then one version-2 record per array (magic 0xF993FAC9),
// byte-identical to what MXNet 1.9.1 writes. A "none" array is a V2 record of ndim 0 (dense storage
// type, which MXNet's loader reads back as none); a 0-d (scalar) array is a version-3 record
// (0xF993FACA, MXNet's numpy-shape records), since ndim 0 means "none" in V2.
//
// Reading: V2, V3, V1 (0xF993FAC8) and legacy V0 records; everything lands on the CPU. Sparse
// records give kUnsupported. Truncated or corrupt input gives kIO naming what is wrong; sizes are
// checked against the bytes left before anything is allocated, and a load returns everything or
// throws.
#pragma once
#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "ndarray/ndarray.h"

namespace mx {

struct NamedArrays {
  std::vector<NDArray> arrays;
  std::vector<std::string> names;  // empty for a list, one per array for a dict
};

// names: null for a list, else one name per array (kInvalidArgument otherwise). Waits for pending
// writes to each array before reading its bytes.
void save_arrays(std::ostream& os, const std::vector<NDArray>& arrays, const std::vector<std::string>* names);
std::string save_arrays_to_string(const std::vector<NDArray>& arrays, const std::vector<std::string>* names);
// Throws kIO when the file cannot be opened or written.
void save_arrays_to_file(const std::string& path, const std::vector<NDArray>& arrays,
                         const std::vector<std::string>* names);

NamedArrays load_arrays(const char* data, size_t len);
NamedArrays load_arrays_from_file(const std::string& path);

// The single-record form without the list header (MXNet's raw bytes, used to pickle one array).
std::string save_array_raw(const NDArray& array);
NDArray load_array_raw(const char* data, size_t len);

}  // namespace mx
