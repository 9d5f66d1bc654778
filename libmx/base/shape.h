// Array shapes: up to kMaxDim int64 dims stored inline (no allocation on the hot path).
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "base/error.h"

namespace mx {

class Shape {
 public:
  static constexpr int kMaxDim = 32;

  Shape() : ndim_(0) {}
  Shape(std::initializer_list<int64_t> dims) { assign(dims.begin(), static_cast<int>(dims.size())); }
  Shape(const int64_t* dims, int ndim) { assign(dims, ndim); }
  explicit Shape(const std::vector<int64_t>& dims) { assign(dims.data(), static_cast<int>(dims.size())); }
  Shape(const Shape& o) : ndim_(o.ndim_) {
    for (int i = 0; i < ndim_; ++i) d_[i] = o.d_[i];
  }
  Shape& operator=(const Shape& o) {
    ndim_ = o.ndim_;
    for (int i = 0; i < ndim_; ++i) d_[i] = o.d_[i];
    return *this;
  }
  // A shape not known yet (graph inference): ndim() < 0.
  static Shape unknown() {
    Shape s;
    s.ndim_ = -1;
    return s;
  }
  bool known() const { return ndim_ >= 0; }
  // A shape of ndim dims all equal to fill.
  static Shape filled(int ndim, int64_t fill) {
    Shape s;
    s.resize(ndim, fill);
    return s;
  }

  int ndim() const { return ndim_; }
  const int64_t* data() const { return d_; }
  int64_t* data() { return d_; }
  int64_t operator[](int i) const { return d_[i]; }
  int64_t& operator[](int i) { return d_[i]; }
  int64_t back() const { return d_[ndim_ - 1]; }
  const int64_t* begin() const { return d_; }
  const int64_t* end() const { return d_ + ndim_; }

  void resize(int ndim, int64_t fill = 0) {
    MX_CHECK(ndim >= 0 && ndim <= kMaxDim, kShape, "ndim ", ndim, " exceeds the maximum of ", kMaxDim);
    for (int i = ndim_; i < ndim; ++i) d_[i] = fill;
    ndim_ = ndim;
  }
  void push_back(int64_t v) {
    MX_CHECK(ndim_ < kMaxDim, kShape, "ndim exceeds the maximum of ", kMaxDim);
    d_[ndim_++] = v;
  }
  void insert(int pos, int64_t v) {
    MX_CHECK(ndim_ < kMaxDim, kShape, "ndim exceeds the maximum of ", kMaxDim);
    for (int i = ndim_; i > pos; --i) d_[i] = d_[i - 1];
    d_[pos] = v;
    ++ndim_;
  }
  void erase(int pos) {
    for (int i = pos; i + 1 < ndim_; ++i) d_[i] = d_[i + 1];
    --ndim_;
  }

  // Number of elements (1 for a scalar).
  int64_t size() const {
    int64_t n = 1;
    for (int i = 0; i < ndim_; ++i) n *= d_[i];
    return n;
  }
  // Product of dims [begin, end).
  int64_t prod(int begin, int end) const {
    int64_t n = 1;
    for (int i = begin; i < end; ++i) n *= d_[i];
    return n;
  }
  std::vector<int64_t> vec() const { return std::vector<int64_t>(d_, d_ + ndim_); }

  bool operator==(const Shape& o) const {
    if (ndim_ != o.ndim_) return false;
    for (int i = 0; i < ndim_; ++i)
      if (d_[i] != o.d_[i]) return false;
    return true;
  }
  bool operator!=(const Shape& o) const { return !(*this == o); }

  // "(2, 3)" as MXNet prints shapes; "()" for a scalar.
  std::string str() const;

 private:
  void assign(const int64_t* dims, int ndim) {
    MX_CHECK(ndim >= 0 && ndim <= kMaxDim, kShape, "ndim ", ndim, " exceeds the maximum of ", kMaxDim);
    ndim_ = ndim;
    for (int i = 0; i < ndim; ++i) d_[i] = dims[i];
  }
  int ndim_;
  int64_t d_[kMaxDim];
};

// Normalises a possibly negative axis against ndim; throws kInvalidArgument when out of range.
int normalize_axis(int axis, int ndim);

}  // namespace mx
