// mx::NDArray: creation, shared-handle copies, views, data access, zero-copy wrapping, files in
// MXNet's format (real MXNet 1.9.1 files), arithmetic and the Operator builder / generated op
// functions. References are values computed here by hand or numpy arrays written with the fixtures.
#include <atomic>
#include <cstdio>
#include <numeric>

#include "test_util.hpp"

using mx::NDArray;
using mx::Shape;

TEST(NDArray, ZerosOnesFull) {
  NDArray z = NDArray::Zeros(Shape(2, 3));
  EXPECT_EQ(z.Shape(), Shape(2, 3));
  EXPECT_EQ(z.Dtype(), mx::kFloat32);
  EXPECT_EQ(z.Size(), 6u);
  EXPECT_EQ(z.ndim(), 2);
  EXPECT_EQ(z.GetContext(), mx::Context::cpu(0));
  EXPECT_EQ(z.ToVector<float>(), std::vector<float>(6, 0.f));
  NDArray o = NDArray::Ones(Shape{4}, mx::Context::cpu(), mx::kInt32);
  EXPECT_EQ(o.Dtype(), mx::kInt32);
  EXPECT_EQ(o.ToVector<int32_t>(), std::vector<int32_t>(4, 1));
  NDArray f = NDArray::Full(Shape(2, 2), 2.5, mx::Context::cpu(), mx::kFloat64);
  EXPECT_EQ(f.ToVector<double>(), std::vector<double>(4, 2.5));
  NDArray s = NDArray::Zeros(Shape());  // a scalar
  EXPECT_EQ(s.ndim(), 0);
  EXPECT_EQ(s.Size(), 1u);
}

TEST(NDArray, FromHostDataAndBack) {
  std::vector<float> v{1, 2, 3, 4, 5, 6};
  NDArray a(v, Shape(2, 3));
  EXPECT_EQ(a.ToVector<float>(), v);
  NDArray b(v.data(), Shape(3, 2));
  EXPECT_EQ(b.GetShape(), (std::vector<int64_t>{3, 2}));
  std::vector<float> back;
  b.SyncCopyToCPU(&back);
  EXPECT_EQ(back, v);
  NDArray c = NDArray::FromVector<int64_t>({7, -8, 9}, Shape(3));
  EXPECT_EQ(c.Dtype(), mx::kInt64);
  EXPECT_EQ(c.ToVector<int64_t>(), (std::vector<int64_t>{7, -8, 9}));
  // ToVector of another type casts through libmx's Cast.
  EXPECT_EQ(c.ToVector<float>(), (std::vector<float>{7.f, -8.f, 9.f}));
  NDArray u = NDArray::FromVector<uint8_t>({0, 255, 17}, Shape(3));
  EXPECT_EQ(u.ToVector<int32_t>(), (std::vector<int32_t>{0, 255, 17}));
  EXPECT_EQ(NDArray(v, Shape(6)).AsType(mx::kInt32).ToVector<int32_t>(), (std::vector<int32_t>{1, 2, 3, 4, 5, 6}));
}

TEST(NDArray, CopiesShareTheHandle) {
  NDArray a(std::vector<float>{1, 2, 3}, Shape(3));
  NDArray b = a;  // same array, as in MXNet's cpp-package
  EXPECT_EQ(a.GetHandle(), b.GetHandle());
  b += 1.0;
  EXPECT_EQ(a.ToVector<float>(), (std::vector<float>{2, 3, 4}));
  NDArray c = a.Copy();  // a copy of the data
  EXPECT_NE(c.StorageId(), a.StorageId());
  c *= 10.0;
  EXPECT_EQ(a.ToVector<float>(), (std::vector<float>{2, 3, 4}));
  EXPECT_EQ(c.ToVector<float>(), (std::vector<float>{20, 30, 40}));
  NDArray d = NDArray::Zeros(Shape(3), mx::Context::cpu(), mx::kFloat64);
  a.CopyTo(&d);  // casts to d's dtype
  EXPECT_EQ(d.ToVector<double>(), (std::vector<double>{2, 3, 4}));
  NDArray moved = std::move(c);
  EXPECT_TRUE(c.IsNone());  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(moved.ToVector<float>(), (std::vector<float>{20, 30, 40}));
}

TEST(NDArray, ViewsShareStorage) {
  std::vector<float> v(12);
  std::iota(v.begin(), v.end(), 0.f);
  NDArray a(v, Shape(3, 4));
  NDArray r = a.Reshape(Shape(2, -1));
  EXPECT_EQ(r.Shape(), Shape(2, 6));
  EXPECT_EQ(r.StorageId(), a.StorageId());
  NDArray s = a.Slice(1, 3);
  EXPECT_EQ(s.Shape(), Shape(2, 4));
  EXPECT_EQ(s.ToVector<float>(), std::vector<float>(v.begin() + 4, v.end()));
  NDArray row = a.At(-1);
  EXPECT_EQ(row.Shape(), Shape(4));
  EXPECT_EQ(row.ToVector<float>(), (std::vector<float>{8, 9, 10, 11}));
  // Writing through a view changes the base array.
  s = 0.5;
  std::vector<float> want(v);
  for (size_t i = 4; i < 12; ++i) want[i] = 0.5f;
  EXPECT_EQ(a.ToVector<float>(), want);
  r += 1.0;
  for (auto& x : want) x += 1.f;
  EXPECT_EQ(a.ToVector<float>(), want);
}

TEST(NDArray, DataPointerAfterWaitToRead) {
  NDArray a = NDArray::Full(Shape(2, 2), 3.0);
  NDArray b = a * 2.0;  // asynchronous
  b.WaitToRead();
  const float* p = b.data<float>();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(p[i], 6.f);
  // data() is the array's memory: a write through it is what the next op reads.
  float* q = b.data<float>();
  q[0] = -1.f;
  EXPECT_EQ((b + 1.0).ToVector<float>(), (std::vector<float>{0, 7, 7, 7}));
  EXPECT_EQ(b.GetData()[0], -1.f);
}

TEST(NDArray, ZeroCopyWrapWithDeleter) {
  std::atomic<int> deleted{0};
  float* buf = new float[6]{1, 2, 3, 4, 5, 6};
  {
    NDArray w = NDArray::Wrap(buf, Shape(2, 3), [&deleted, buf] {
      delete[] buf;
      deleted++;
    });
    EXPECT_EQ(w.data<float>(), buf);  // no copy
    EXPECT_EQ(w.ToVector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
    buf[5] = 60.f;  // the caller's memory is the array
    EXPECT_EQ(w.At(1).ToVector<float>(), (std::vector<float>{4, 5, 60}));
    NDArray view = w.Reshape(Shape(6));
    w = NDArray();
    EXPECT_EQ(deleted.load(), 0);  // the view keeps the buffer alive
    view *= 2.0;       // asynchronous: wait before reading the memory directly
    view.WaitToRead();
    EXPECT_EQ(buf[0], 2.f);
  }
  mx::WaitAll();
  EXPECT_EQ(deleted.load(), 1);

  // An int32 buffer with the dtype named explicitly, no deleter: the caller keeps ownership.
  std::vector<int32_t> ints{5, 6, 7};
  {
    NDArray w = NDArray::Wrap(static_cast<void*>(ints.data()), Shape(3), mx::kInt32);
    EXPECT_EQ(w.Dtype(), mx::kInt32);
    EXPECT_EQ(w.ToVector<int32_t>(), ints);
  }
  mx::WaitAll();
}

TEST(NDArray, Arithmetic) {
  NDArray a(std::vector<float>{1, 2, 3, 4, 5, 6}, Shape(2, 3));
  NDArray b(std::vector<float>{10, 20, 30}, Shape(1, 3));  // broadcast over rows
  EXPECT_EQ((a + b).ToVector<float>(), (std::vector<float>{11, 22, 33, 14, 25, 36}));
  EXPECT_EQ((a - b).ToVector<float>(), (std::vector<float>{-9, -18, -27, -6, -15, -24}));
  EXPECT_EQ((a * b).ToVector<float>(), (std::vector<float>{10, 40, 90, 40, 100, 180}));
  mxtest::ExpectNear((a / b).ToVector<float>(), std::vector<double>{0.1, 0.1, 0.1, 0.4, 0.25, 0.2}, 1e-6);
  EXPECT_EQ((a + 1.5).ToVector<float>(), (std::vector<float>{2.5, 3.5, 4.5, 5.5, 6.5, 7.5}));
  EXPECT_EQ((10.0 - a).ToVector<float>(), (std::vector<float>{9, 8, 7, 6, 5, 4}));
  EXPECT_EQ((a - 1.0).ToVector<float>(), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ((2.0 * a).ToVector<float>(), (std::vector<float>{2, 4, 6, 8, 10, 12}));
  mxtest::ExpectNear((1.0 / a).ToVector<float>(), std::vector<double>{1, 0.5, 1 / 3., 0.25, 0.2, 1 / 6.}, 1e-6);
  EXPECT_EQ((a / 2.0).ToVector<float>(), (std::vector<float>{0.5, 1, 1.5, 2, 2.5, 3}));
  EXPECT_EQ((-a).ToVector<float>(), (std::vector<float>{-1, -2, -3, -4, -5, -6}));
  NDArray c = a.Copy();
  c += b;
  c -= 1.0;
  c *= 2.0;
  c /= a;
  std::vector<double> want;
  std::vector<float> av{1, 2, 3, 4, 5, 6}, bv{10, 20, 30};
  for (size_t i = 0; i < 6; ++i) want.push_back((av[i] + bv[i % 3] - 1) * 2 / av[i]);
  mxtest::ExpectNear(c.ToVector<float>(), want, 1e-6);
  NDArray d = NDArray::Zeros(Shape(2, 2), mx::Context::cpu(), mx::kInt32);
  d = 7;
  EXPECT_EQ(d.ToVector<int32_t>(), std::vector<int32_t>(4, 7));
}

TEST(NDArray, SaveLoadListAndDict) {
  NDArray a(std::vector<float>{1, 2, 3}, Shape(3));
  NDArray b = NDArray::FromVector<int64_t>({4, 5, 6, 7}, Shape(2, 2));
  std::string path = mxtest::TempPath("list.nd");
  NDArray::Save(path, {a, b});
  std::vector<NDArray> l = NDArray::LoadToList(path);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].ToVector<float>(), a.ToVector<float>());
  EXPECT_EQ(l[1].Dtype(), mx::kInt64);
  EXPECT_EQ(l[1].Shape(), Shape(2, 2));
  EXPECT_EQ(l[1].ToVector<int64_t>(), (std::vector<int64_t>{4, 5, 6, 7}));
  std::map<std::string, NDArray> m;
  NDArray::Load(path, nullptr, &m);
  EXPECT_TRUE(m.empty());  // a list has no names
  std::remove(path.c_str());

  path = mxtest::TempPath("dict.params");
  NDArray::Save(path, std::map<std::string, NDArray>{{"arg:w", a}, {"aux:s", b}});
  m = NDArray::LoadToMap(path);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m.at("arg:w").ToVector<float>(), a.ToVector<float>());
  EXPECT_EQ(m.at("aux:s").ToVector<int64_t>(), b.ToVector<int64_t>());
  std::remove(path.c_str());

  // In memory: the same bytes as the file format.
  std::string buf = NDArray::SaveToBuffer(std::map<std::string, NDArray>{{"x", a}});
  std::vector<NDArray> lv;
  std::map<std::string, NDArray> mv;
  NDArray::LoadFromBuffer(buf, &lv, &mv);
  ASSERT_EQ(lv.size(), 1u);
  EXPECT_EQ(mv.at("x").ToVector<float>(), a.ToVector<float>());
  // Container magic 0x112 (MXNet's NDArray list format), little-endian uint64 first.
  ASSERT_GE(buf.size(), 8u);
  EXPECT_EQ(static_cast<unsigned char>(buf[0]), 0x12);
  EXPECT_EQ(static_cast<unsigned char>(buf[1]), 0x01);
}

// Files written by real MXNet 1.9.1: every dtype, values equal to the numpy arrays shipped with them.
TEST(NDArray, LoadsMXNetFiles) {
  std::string dir = mxtest::FixturesDir();
  ASSERT_FALSE(dir.empty());
  std::vector<NDArray> list;
  std::map<std::string, NDArray> dict;
  NDArray::Load(dir + "/arrays_dict.nd", &list, &dict);
  const std::vector<std::pair<std::string, int>> names = {
      {"f32", mx::kFloat32}, {"f32_special", mx::kFloat32}, {"f64", mx::kFloat64}, {"f16", mx::kFloat16},
      {"u8", mx::kUint8},    {"i32", mx::kInt32},           {"i8", mx::kInt8},     {"i64", mx::kInt64}};
  ASSERT_EQ(dict.size(), names.size());
  std::vector<NDArray> list_file = NDArray::LoadToList(dir + "/arrays_list.nd");
  ASSERT_EQ(list_file.size(), names.size());
  for (size_t k = 0; k < names.size(); ++k) {
    const auto& name = names[k].first;
    SCOPED_TRACE(name);
    mxtest::Npy ref = mxtest::ReadNpy(dir + "/arrays_npy/" + name + ".npy");
    for (const NDArray& a : {dict.at(name), list_file[k]}) {
      EXPECT_EQ(a.Dtype(), names[k].second);
      EXPECT_EQ(a.GetShape(), ref.shape);
      ASSERT_EQ(a.Size() * mx::DTypeSize(a.Dtype()), ref.bytes.size());
      // Bit-exact (NaN payloads, signed zeros, denormals included): compare the raw bytes.
      std::vector<char> got(ref.bytes.size());
      a.WaitToRead();
      std::memcpy(got.data(), a.RawData(), got.size());
      EXPECT_EQ(got, ref.bytes);
    }
  }
}

TEST(OperatorBuilder, InvokeWithParamsAndNamedInputs) {
  // 1x1x3x3 input, one 2x2 filter of ones, bias 0.5: every output is the window sum + 0.5.
  std::vector<float> x(9);
  std::iota(x.begin(), x.end(), 1.f);
  NDArray data(x, Shape(1, 1, 3, 3));
  NDArray weight = NDArray::Ones(Shape(1, 1, 2, 2));
  NDArray bias = NDArray::Full(Shape(1), 0.5);
  // Inputs by name, in any order.
  std::vector<NDArray> out = mx::Operator("Convolution")
                                 .SetParam("kernel", Shape(2, 2))
                                 .SetParam("num_filter", 1)
                                 .SetInput("bias", bias)
                                 .SetInput("weight", weight)
                                 .SetInput("data", data)
                                 .Invoke();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].Shape(), Shape(1, 1, 2, 2));
  EXPECT_EQ(out[0].ToVector<float>(), (std::vector<float>{12.5, 16.5, 24.5, 28.5}));
  // The generated typed function gives the same.
  NDArray y = mx::op::Convolution(data, weight, bias, Shape(2, 2), 1);
  EXPECT_EQ(y.ToVector<float>(), out[0].ToVector<float>());
  // no_bias: the bias input is left out (an empty NDArray).
  NDArray y2 = mx::op::Convolution(data, weight, NDArray(), Shape(2, 2), 1, Shape(1, 1), Shape(), Shape(1, 1), 1, 1024, true);
  EXPECT_EQ(y2.Shape(), Shape(1, 1, 4, 4));  // pad 1
  EXPECT_EQ(y2.ToVector<float>()[0], 1.f);    // only x[0] under the window at the corner
  EXPECT_EQ(y2.ToVector<float>()[5], 12.f);   // 1 + 2 + 4 + 5
  // Positional inputs and every param type: string, bool, float, vector-as-tuple.
  NDArray act = mx::Operator("Activation").SetParam("act_type", "relu").PushInput(data - 5.0).Invoke()[0];
  EXPECT_EQ(act.ToVector<float>(), (std::vector<float>{0, 0, 0, 0, 0, 1, 2, 3, 4}));
  NDArray t = mx::Operator("transpose").SetParam("axes", std::vector<int>{0, 1, 3, 2}).PushInput(data).Invoke()[0];
  EXPECT_EQ(t.ToVector<float>(), (std::vector<float>{1, 4, 7, 2, 5, 8, 3, 6, 9}));
  NDArray sm = mx::Operator("sum").SetParam("axis", Shape(3)).SetParam("keepdims", true).PushInput(data).Invoke()[0];
  EXPECT_EQ(sm.Shape(), Shape(1, 1, 3, 1));
  EXPECT_EQ(sm.ToVector<float>(), (std::vector<float>{6, 15, 24}));
}

TEST(OperatorBuilder, OutputsInPlaceAndMultipleOutputs) {
  NDArray a(std::vector<float>{1, 2, 3, 4}, Shape(4));
  NDArray out = NDArray::Zeros(Shape(4));
  uint64_t id = out.StorageId();
  mx::Operator("_mul_scalar").SetParam("scalar", 3.0).PushInput(a).Invoke(out);
  EXPECT_EQ(out.StorageId(), id);  // written in place
  EXPECT_EQ(out.ToVector<float>(), (std::vector<float>{3, 6, 9, 12}));
  // Several outputs: split into 2 along axis 0.
  std::vector<NDArray> parts = mx::op::split(a, 2, 0);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].ToVector<float>(), (std::vector<float>{1, 2}));
  EXPECT_EQ(parts[1].ToVector<float>(), (std::vector<float>{3, 4}));
  // A variadic op: num_args is set from the inputs.
  NDArray cat = mx::op::Concat({a, a * 10.0}, 0);
  EXPECT_EQ(cat.ToVector<float>(), (std::vector<float>{1, 2, 3, 4, 10, 20, 30, 40}));
  NDArray sum3 = mx::Operator("add_n")({a, a, a}).Invoke()[0];
  EXPECT_EQ(sum3.ToVector<float>(), (std::vector<float>{3, 6, 9, 12}));
  // Pre-allocated and empty slots mixed.
  std::vector<NDArray> slots{NDArray::Zeros(Shape(2)), NDArray()};
  mx::Operator("SliceChannel").SetParam("num_outputs", 2).SetParam("axis", 0).PushInput(a).Invoke(slots);
  EXPECT_EQ(slots[0].ToVector<float>(), (std::vector<float>{1, 2}));
  EXPECT_EQ(slots[1].ToVector<float>(), (std::vector<float>{3, 4}));
}

TEST(GeneratedOps, TypedParamsDefaultsAndNamespaces) {
  NDArray m(std::vector<float>{1, 9, 3, 7, 2, 8}, Shape(2, 3));
  // Optional<int> axis: absent = over everything (flattened), given = along the axis.
  EXPECT_EQ(mx::op::argmax(m).ToVector<float>(), (std::vector<float>{1}));
  EXPECT_EQ(mx::op::argmax(m, 1).ToVector<float>(), (std::vector<float>{1, 2}));
  EXPECT_EQ(mx::op::sum(m).ToVector<float>(), (std::vector<float>{30}));
  EXPECT_EQ(mx::op::sum(m, Shape(0)).ToVector<float>(), (std::vector<float>{8, 11, 11}));
  EXPECT_EQ(mx::op::sum(m, Shape(1), true).Shape(), Shape(2, 1));
  // Unary math vs <cmath>.
  std::vector<float> v{0.1f, 0.5f, 2.f};
  NDArray x(v, Shape(3));
  std::vector<double> want;
  for (float f : v) want.push_back(std::exp(f) + std::sin(f));
  mxtest::ExpectNear((mx::op::exp(x) + mx::op::sin(x)).ToVector<float>(), want, 1e-6);
  // Creation ops with a Context parameter and a dtype given as a string.
  NDArray z = mx::op::zeros(Shape(2, 2), mx::Context::cpu(), "int32");
  EXPECT_EQ(z.Dtype(), mx::kInt32);
  // Internal and contrib names live in nested namespaces.
  EXPECT_EQ(mx::op::internal::plus_scalar(x, 1.0).ToVector<float>(), (std::vector<float>{1.1f, 1.5f, 3.f}));
  NDArray img = NDArray::Ones(Shape(1, 1, 2, 2));
  EXPECT_EQ(mx::op::contrib::BilinearResize2D(img, NDArray(), 4, 4).Shape(), Shape(1, 1, 4, 4));
  // FullyConnected: y = x W^T + b.
  NDArray data(std::vector<float>{1, 2, 3, 4}, Shape(2, 2));
  NDArray w(std::vector<float>{1, 0, 1, 1, 0, 2}, Shape(3, 2));
  NDArray b(std::vector<float>{0, 1, 2}, Shape(3));
  EXPECT_EQ(mx::op::FullyConnected(data, w, b, 3).ToVector<float>(), (std::vector<float>{1, 4, 6, 3, 8, 10}));
}

TEST(NDArray, PrintsValues) {
  std::ostringstream os;
  os << NDArray(std::vector<float>{1.5, -2}, Shape(2));
  EXPECT_EQ(os.str(), "NDArray(2,) float32 @cpu(0) [1.5, -2]");
}

// RAII: arrays, views, executors, cached ops and autograd graphs give their storage back when the
// last C++ handle dies (libmx's pool then holds it as cached, not in use).
TEST(RAII, StorageReturnsToBaseline) {
  auto in_use = [] {
    mx::WaitAll();
    size_t used = 0, cached = 0;
    EXPECT_EQ(mx_storage_stats(MX_CPU, 0, &used, &cached), MX_OK);
    return used;
  };
  size_t before = in_use();
  {
    NDArray a = NDArray::Ones(Shape(256, 256));
    NDArray view = a.Slice(0, 10).Reshape(Shape(-1));
    NDArray b = a * 3.0 + a;
    std::vector<float> host(1000, 1.f);
    NDArray wrapped = NDArray::Wrap(host.data(), Shape(1000));
    mx::Symbol fc = mx::sym::FullyConnected("fc", mx::Symbol::Variable("data"), mx::Symbol(), mx::Symbol(), 64);
    mx::Executor exec = fc.SimpleBind(mx::Context::cpu(), {{"data", Shape(32, 256)}});
    exec.Forward(true);
    exec.Backward();
    mx::CachedOp cop(fc, {{"static_alloc", "true"}});
    NDArray w = NDArray::Ones(Shape(64, 256)), bias = NDArray::Zeros(Shape(64));
    w.AttachGrad();
    NDArray y;
    {
      mx::autograd::RecordScope rec;
      y = cop({a.Slice(0, 32), w, bias})[0] * 2.0;
    }
    y.Backward();
    EXPECT_GT(in_use(), before);
  }
  EXPECT_EQ(in_use(), before);
}
