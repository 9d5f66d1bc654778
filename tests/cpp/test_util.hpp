// Helpers shared by the C++ package tests: MXNet 1.9.1 fixture files, a .npy reader (the
// references those fixtures ship), temporary paths and float comparisons.
#ifndef MX_TESTS_CPP_TEST_UTIL_HPP_
#define MX_TESTS_CPP_TEST_UTIL_HPP_

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <mx/mx.hpp>

namespace mxtest {

// Directory of the real MXNet 1.9.1 files: $MX_FIXTURES_DIR, else shared/fixtures/mxnet-1.9.1
// beside the checkout (or inside it). Fails the calling test when absent.
inline std::string FixturesDir() {
  auto ok = [](const std::string& d) { return std::ifstream(d + "/manifest.json").good(); };
  const char* env = std::getenv("MX_FIXTURES_DIR");
  if (env && *env && ok(env)) return env;
  std::string here = __FILE__;  // <root>/tests/cpp/test_util.hpp
  std::string root = here.substr(0, here.rfind("tests/cpp/test_util.hpp"));
  for (const std::string& c : {root + "../shared/fixtures/mxnet-1.9.1", root + "shared/fixtures/mxnet-1.9.1"})
    if (ok(c)) return c;
  ADD_FAILURE() << "MXNet 1.9.1 fixtures not found: keep shared/fixtures/mxnet-1.9.1 beside the checkout "
                   "or set MX_FIXTURES_DIR";
  return "";
}

struct Npy {
  std::string descr;            // "<f4", "<i8", "|u1", ...
  std::vector<int64_t> shape;
  std::vector<char> bytes;      // C order
  template <typename T>
  std::vector<T> As() const {
    std::vector<T> v(bytes.size() / sizeof(T));
    std::memcpy(v.data(), bytes.data(), v.size() * sizeof(T));
    return v;
  }
};

// A numpy .npy file (versions 1-3, C order).
inline Npy ReadNpy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (all.size() < 10 || all.compare(0, 6, "\x93NUMPY") != 0) throw std::runtime_error("not a .npy file: " + path);
  int major = static_cast<unsigned char>(all[6]);
  size_t hlen, off;
  if (major == 1) {
    hlen = static_cast<unsigned char>(all[8]) | (static_cast<size_t>(static_cast<unsigned char>(all[9])) << 8);
    off = 10;
  } else {
    hlen = 0;
    for (int i = 0; i < 4; ++i) hlen |= static_cast<size_t>(static_cast<unsigned char>(all[8 + i])) << (8 * i);
    off = 12;
  }
  std::string header = all.substr(off, hlen);
  Npy n;
  size_t d = header.find("'descr':");
  size_t q1 = header.find('\'', d + 8), q2 = header.find('\'', q1 + 1);
  n.descr = header.substr(q1 + 1, q2 - q1 - 1);
  if (header.find("'fortran_order': True") != std::string::npos) throw std::runtime_error("fortran order: " + path);
  size_t s = header.find("'shape':");
  size_t p1 = header.find('(', s), p2 = header.find(')', p1);
  std::stringstream ss(header.substr(p1 + 1, p2 - p1 - 1));
  std::string item;
  while (std::getline(ss, item, ','))
    if (item.find_first_of("0123456789") != std::string::npos) n.shape.push_back(std::stoll(item));
  n.bytes.assign(all.begin() + static_cast<std::ptrdiff_t>(off + hlen), all.end());
  return n;
}

// A fresh path under the temporary directory (removed by the caller or left for the OS).
inline std::string TempPath(const std::string& name) {
  const char* t = std::getenv("TMPDIR");
  std::string dir = t && *t ? t : "/tmp";
  return dir + "/mx_cpp_test_" + std::to_string(getpid()) + "_" + name;
}

inline void ExpectNear(const std::vector<float>& got, const std::vector<double>& want, double tol,
                       const std::string& what = "") {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol * (1.0 + std::fabs(want[i]))) << what << " at " << i;
}
inline void ExpectNear(const std::vector<float>& got, const std::vector<float>& want, double tol,
                       const std::string& what = "") {
  ExpectNear(got, std::vector<double>(want.begin(), want.end()), tol, what);
}

// Runs f, which must throw mx::Error with status; returns the message. For errors raised by libmx
// the message must be libmx's own (still mx_last_error() on this thread after the throw).
template <typename F>
std::string ExpectMxError(F&& f, int status, bool from_libmx = true) {
  try {
    f();
  } catch (const mx::Error& e) {
    EXPECT_EQ(e.status(), status) << e.what();
    EXPECT_NE(std::string(e.what()), "");
    if (from_libmx) {
      EXPECT_EQ(std::string(e.what()), std::string(mx_last_error()));
      EXPECT_EQ(e.status(), mx_last_status());
    }
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected mx::Error, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected mx::Error with status " << status << ", nothing thrown";
  return "";
}

}  // namespace mxtest

#endif  // MX_TESTS_CPP_TEST_UTIL_HPP_
