// MXNet's NDArray list format (see io.h). Integers are little-endian on disk, as on every host
// libmx builds for.
#include "ndarray/io.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>

#include "base/error.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "NDArray files are little-endian: a big-endian host needs byte swapping in io.cc"
#endif

namespace mx {
namespace {

constexpr uint64_t kListMagic = 0x112;
constexpr uint32_t kMagicV1 = 0xF993FAC8u;  // int64 dims, no storage type
constexpr uint32_t kMagicV2 = 0xF993FAC9u;  // storage type; ndim 0 = none
constexpr uint32_t kMagicV3 = 0xF993FACAu;  // numpy shapes: ndim 0 = scalar, -1 = none
constexpr int32_t kStypeUndefined = -1, kStypeDefault = 0, kStypeRowSparse = 1, kStypeCSR = 2;

std::string hex(uint64_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << std::uppercase << v;
  return os.str();
}

// ------------------------------------------------------------------ reading
// A bounded byte source: every read names what it reads, and reading past the end is a kIO error
// that says so (before any allocation sized by the file).
class Reader {
 public:
  explicit Reader(uint64_t size) : size_(size) {}
  virtual ~Reader() = default;

  uint64_t offset() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  void need(uint64_t n, const std::string& what) const {
    if (n > remaining())
      MX_THROW(kIO, "truncated input: ", what, " needs ", n, " bytes at offset ", pos_, " but only ", remaining(),
               " remain");
  }
  void read(void* dst, uint64_t n, const std::string& what) {
    need(n, what);
    if (n) fetch(dst, static_cast<size_t>(n));
    pos_ += n;
  }
  template <typename T>
  T get(const char* what) {
    T v;
    read(&v, sizeof(T), what);
    return v;
  }

 protected:
  virtual void fetch(void* dst, size_t n) = 0;

 private:
  uint64_t size_, pos_ = 0;
};

class MemReader : public Reader {
 public:
  MemReader(const char* data, size_t len) : Reader(len), data_(data) {}

 protected:
  void fetch(void* dst, size_t n) override { std::memcpy(dst, data_ + offset(), n); }

 private:
  const char* data_;
};

class FileReader : public Reader {
 public:
  FileReader(std::FILE* f, uint64_t size, const std::string& path) : Reader(size), f_(f), path_(path) {}

 protected:
  void fetch(void* dst, size_t n) override {
    if (std::fread(dst, 1, n, f_) != n)
      MX_THROW(kIO, "read error in '", path_, "' at offset ", offset(), " (the file changed or could not be read)");
  }

 private:
  std::FILE* f_;
  std::string path_;
};

const char* stype_name(int32_t s) {
  return s == kStypeRowSparse ? "row_sparse" : s == kStypeCSR ? "csr" : "unknown";
}

// MXNet type flags that exist but that MX does not compute in.
const char* foreign_dtype_name(int32_t flag) {
  switch (flag) {
    case 8: return "int16";
    case 9: return "uint16";
    case 10: return "uint32";
    case 11: return "uint64";
    default: return nullptr;
  }
}

// Reads ndim (already read) int64 or uint32 dims into a Shape, checking ndim first.
Shape read_dims(Reader& r, int64_t ndim, bool wide, const std::string& what) {
  MX_CHECK(ndim >= 0 && ndim <= Shape::kMaxDim, kIO, "corrupt record: ", what, " has ndim ", ndim,
           " (expected 0 to ", Shape::kMaxDim, ")");
  r.need(static_cast<uint64_t>(ndim) * (wide ? 8 : 4), what + " dimensions");
  Shape s;
  for (int64_t i = 0; i < ndim; ++i) s.push_back(wide ? r.get<int64_t>("dimension") : r.get<uint32_t>("dimension"));
  return s;
}

// After the shape: context, type flag and the data, read straight into a new CPU array.
NDArray read_body(Reader& r, const Shape& shape, const std::string& what) {
  const int32_t dev_type = r.get<int32_t>("device type");
  r.get<int32_t>("device id");
  // 1 cpu, 2 gpu, 3 cpu_pinned, 5 cpu_shared; the data always lands on the CPU.
  MX_CHECK(dev_type == 1 || dev_type == 2 || dev_type == 3 || dev_type == 5, kIO, "corrupt record: ", what,
           " has device type ", dev_type, " (expected 1, 2, 3 or 5)");
  const int32_t flag = r.get<int32_t>("type flag");
  if (const char* foreign = foreign_dtype_name(flag))
    MX_THROW(kUnsupported, what, " has dtype ", foreign, " (type flag ", flag, "), which is not supported");
  MX_CHECK(dtype_valid(flag), kIO, "corrupt record: ", what, " has unknown type flag ", flag);
  const DType dtype = static_cast<DType>(flag);

  uint64_t count = 1;
  for (int i = 0; i < shape.ndim(); ++i) {
    MX_CHECK(shape[i] >= 0, kIO, "corrupt record: ", what, " has a negative dimension in shape ", shape.str());
    const uint64_t d = static_cast<uint64_t>(shape[i]);
    MX_CHECK(d == 0 || count <= std::numeric_limits<uint64_t>::max() / d, kIO, "corrupt record: ", what,
             " has shape ", shape.str(), " whose size overflows");
    count *= d;
  }
  const uint64_t item = dtype_size(dtype);
  MX_CHECK(count <= std::numeric_limits<uint64_t>::max() / item, kIO, "corrupt record: ", what, " has shape ",
           shape.str(), " whose size overflows");
  const uint64_t nbytes = count * item;
  r.need(nbytes, str(what, " data (shape ", shape.str(), ", ", dtype_name(dtype), ")"));
  NDArray a(shape, Device::cpu(), dtype);
  r.read(a.raw_data(), nbytes, "array data");
  return a;
}

NDArray read_record(Reader& r, const std::string& what) {
  const uint32_t magic = r.get<uint32_t>("record magic");
  if (magic == kMagicV2 || magic == kMagicV3) {
    const int32_t stype = r.get<int32_t>("storage type");
    if (stype == kStypeRowSparse || stype == kStypeCSR)
      MX_THROW(kUnsupported, what, " has ", stype_name(stype),
               " storage: sparse storage is not supported (only dense arrays load)");
    MX_CHECK(stype == kStypeDefault || stype == kStypeUndefined, kIO, "corrupt record: ", what,
             " has unknown storage type ", stype);
    const int32_t ndim = r.get<int32_t>("ndim");
    if (magic == kMagicV3) {
      if (ndim == -1) return NDArray();  // unknown shape: a none array
      Shape s = read_dims(r, ndim, true, what);
      for (int i = 0; i < s.ndim(); ++i)
        if (s[i] == -1) return NDArray();
      MX_CHECK(stype == kStypeDefault, kIO, "corrupt record: ", what, " has undefined storage but a shape");
      return read_body(r, s, what);
    }
    Shape s = read_dims(r, ndim, true, what);
    if (s.ndim() == 0) return NDArray();
    MX_CHECK(stype == kStypeDefault, kIO, "corrupt record: ", what, " has undefined storage but a shape");
    return read_body(r, s, what);
  }
  if (magic == kMagicV1) {
    Shape s = read_dims(r, r.get<int32_t>("ndim"), true, what);
    if (s.ndim() == 0) return NDArray();
    return read_body(r, s, what);
  }
  // Legacy V0: no magic, the first word is ndim and the dims are uint32.
  MX_CHECK(magic <= static_cast<uint32_t>(Shape::kMaxDim), kIO, "corrupt input: ", what, " starts with ", hex(magic),
           ", which is neither a record magic (", hex(kMagicV2), ", ", hex(kMagicV3), ", ", hex(kMagicV1),
           ") nor a legacy ndim");
  Shape s = read_dims(r, magic, false, what);
  if (s.ndim() == 0) return NDArray();
  return read_body(r, s, what);
}

bool valid_utf8(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    const unsigned c = p[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (size_t j = 1; j < len; ++j) {
      if ((p[i + j] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + j] & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and values past U+10FFFF are not UTF-8.
    static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

NamedArrays read_list(Reader& r) {
  const uint64_t magic = r.get<uint64_t>("file header");
  MX_CHECK(magic == kListMagic, kIO, "not an MXNet NDArray file: header magic is ", hex(magic), " (expected ",
           hex(kListMagic), ")");
  r.get<uint64_t>("reserved header field");
  const uint64_t n = r.get<uint64_t>("array count");
  // The smallest record (a legacy none array) takes 4 bytes.
  MX_CHECK(n <= r.remaining() / 4, kIO, "truncated or corrupt input: the file claims ", n, " arrays but only ",
           r.remaining(), " bytes follow");
  NamedArrays out;
  out.arrays.reserve(static_cast<size_t>(std::min<uint64_t>(n, 1024)));  // n is not trusted yet
  for (uint64_t i = 0; i < n; ++i) out.arrays.push_back(read_record(r, str("array ", i)));
  const uint64_t k = r.get<uint64_t>("name count");
  MX_CHECK(k == 0 || k == n, kIO, "corrupt input: ", k, " names for ", n, " arrays (expected 0 or ", n, ")");
  MX_CHECK(k <= r.remaining() / 8, kIO, "truncated or corrupt input: the file claims ", k, " names but only ",
           r.remaining(), " bytes follow");
  out.names.reserve(static_cast<size_t>(std::min<uint64_t>(k, 1024)));
  for (uint64_t i = 0; i < k; ++i) {
    const uint64_t len = r.get<uint64_t>("name length");
    const std::string what = str("name ", i, " (", len, " bytes)");
    r.need(len, what);
    std::string name(static_cast<size_t>(len), '\0');
    r.read(&name[0], len, what);
    // Bindings hand names to languages that require valid text.
    MX_CHECK(valid_utf8(name), kIO, "corrupt input: ", what, " is not valid UTF-8");
    out.names.push_back(std::move(name));
  }
  return out;
}

// Runs a load, prefixing any error with where the bytes came from (the code is kept).
template <typename F>
auto with_context(const std::string& where, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error(e.code(), str("cannot load ", where, ": ", e.what()));
  }
}

// ------------------------------------------------------------------ writing
template <typename T>
void put(std::ostream& os, T v) {
  os.write(reinterpret_cast<const char*>(&v), sizeof(T));
}

// A CPU array holding a's bytes (a itself when it already lives on the CPU), ready to read.
NDArray host_copy(const NDArray& a) {
  if (a.device().is_cpu()) {
    a.wait_to_read();
    return a;
  }
  NDArray h(a.shape(), Device::cpu(), a.dtype());
  copy_ndarray(a, h);
  h.wait_to_read();
  return h;
}

void write_record(std::ostream& os, const NDArray& a) {
  if (a.is_none()) {
    // MXNet marks a none array by ndim 0 (its loader needs a known storage type: dense).
    put<uint32_t>(os, kMagicV2);
    put<int32_t>(os, kStypeDefault);
    put<int32_t>(os, 0);
    return;
  }
  const Shape& s = a.shape();
  // ndim 0 means "none" in V2, so a 0-d array takes MXNet's numpy-shape record.
  put<uint32_t>(os, s.ndim() == 0 ? kMagicV3 : kMagicV2);
  put<int32_t>(os, kStypeDefault);
  put<int32_t>(os, s.ndim());
  for (int i = 0; i < s.ndim(); ++i) put<int64_t>(os, s[i]);
  const Device dev = a.device();
  put<int32_t>(os, static_cast<int32_t>(dev.type));
  put<int32_t>(os, dev.id);
  put<int32_t>(os, static_cast<int32_t>(a.dtype()));
  NDArray h = host_copy(a);
  if (h.nbytes()) os.write(static_cast<const char*>(h.raw_data()), static_cast<std::streamsize>(h.nbytes()));
}

void check_names(const std::vector<NDArray>& arrays, const std::vector<std::string>* names) {
  if (names)
    MX_CHECK(names->size() == arrays.size(), kInvalidArgument, "save: ", names->size(), " names for ", arrays.size(),
             " arrays (a dict needs one name per array)");
}

std::string errno_text() { return errno ? std::strerror(errno) : "unknown error"; }

}  // namespace

// ------------------------------------------------------------------ public API
void save_arrays(std::ostream& os, const std::vector<NDArray>& arrays, const std::vector<std::string>* names) {
  check_names(arrays, names);
  put<uint64_t>(os, kListMagic);
  put<uint64_t>(os, 0);
  put<uint64_t>(os, arrays.size());
  for (const NDArray& a : arrays) write_record(os, a);
  put<uint64_t>(os, names ? names->size() : 0);
  if (names)
    for (const std::string& n : *names) {
      put<uint64_t>(os, n.size());
      os.write(n.data(), static_cast<std::streamsize>(n.size()));
    }
  MX_CHECK(os.good(), kIO, "save: the output stream failed while writing");
}

std::string save_arrays_to_string(const std::vector<NDArray>& arrays, const std::vector<std::string>* names) {
  std::ostringstream os(std::ios::out | std::ios::binary);
  save_arrays(os, arrays, names);
  return os.str();
}

void save_arrays_to_file(const std::string& path, const std::vector<NDArray>& arrays,
                         const std::vector<std::string>* names) {
  check_names(arrays, names);
  // Surface pending (asynchronous) errors before the file is touched.
  for (const NDArray& a : arrays)
    if (!a.is_none()) a.wait_to_read();
  errno = 0;
  std::ofstream f(path, std::ios::out | std::ios::binary | std::ios::trunc);
  MX_CHECK(f.is_open(), kIO, "cannot open '", path, "' for writing: ", errno_text());
  save_arrays(f, arrays, names);
  f.close();
  MX_CHECK(!f.fail(), kIO, "error writing '", path, "': ", errno_text());
}

NamedArrays load_arrays(const char* data, size_t len) {
  MX_CHECK(data != nullptr || len == 0, kInvalidArgument, "load: null buffer of ", len, " bytes");
  return with_context("NDArray buffer", [&] {
    MemReader r(data, len);
    return read_list(r);
  });
}

NamedArrays load_arrays_from_file(const std::string& path) {
  return with_context(str("'", path, "'"), [&] {
    errno = 0;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) {
      const int err = errno;
      MX_CHECK(err != ENOENT, kNotFound, "no such file");
      MX_THROW(kIO, "cannot open for reading: ", err ? std::strerror(err) : "unknown error");
    }
    struct stat st;
    MX_CHECK(fstat(fileno(f.get()), &st) == 0, kIO, "cannot stat: ", errno_text());
    MX_CHECK(!S_ISDIR(st.st_mode), kIO, "is a directory");
    if (S_ISREG(st.st_mode)) {
      FileReader r(f.get(), static_cast<uint64_t>(st.st_size), path);
      return read_list(r);
    }
    // A pipe or device: no size up front, so read it whole.
    std::string buf;
    char chunk[1 << 16];
    size_t got;
    while ((got = std::fread(chunk, 1, sizeof(chunk), f.get())) > 0) buf.append(chunk, got);
    MX_CHECK(!std::ferror(f.get()), kIO, "read error: ", errno_text());
    MemReader r(buf.data(), buf.size());
    return read_list(r);
  });
}

std::string save_array_raw(const NDArray& array) {
  std::ostringstream os(std::ios::out | std::ios::binary);
  write_record(os, array);
  MX_CHECK(os.good(), kIO, "save: the output stream failed while writing");
  return os.str();
}

NDArray load_array_raw(const char* data, size_t len) {
  MX_CHECK(data != nullptr || len == 0, kInvalidArgument, "load: null buffer of ", len, " bytes");
  return with_context("NDArray bytes", [&] {
    MemReader r(data, len);
    return read_record(r, "the array");
  });
}

}  // namespace mx
