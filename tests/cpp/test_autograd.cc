// mx::autograd: recording and training scopes, variables, backward and grad against analytic
// derivatives computed here.
#include <cmath>

#include "test_util.hpp"

using mx::NDArray;
using mx::Shape;
namespace ag = mx::autograd;

namespace {
const std::vector<float> kX{-1.5f, -0.2f, 0.3f, 1.0f, 2.5f};
}

TEST(Autograd, ScopesRestoreTheirSettings) {
  EXPECT_FALSE(ag::IsRecording());
  EXPECT_FALSE(ag::IsTraining());
  {
    ag::RecordScope rec;
    EXPECT_TRUE(ag::IsRecording());
    EXPECT_TRUE(ag::IsTraining());
    {
      ag::PauseScope pause;
      EXPECT_FALSE(ag::IsRecording());
      EXPECT_FALSE(ag::IsTraining());
    }
    EXPECT_TRUE(ag::IsRecording());
    {
      ag::PredictModeScope predict;
      EXPECT_FALSE(ag::IsTraining());
      EXPECT_TRUE(ag::IsRecording());
    }
    EXPECT_TRUE(ag::IsTraining());
  }
  EXPECT_FALSE(ag::IsRecording());
  {
    ag::RecordScope rec(false);  // recording in predict mode
    EXPECT_TRUE(ag::IsRecording());
    EXPECT_FALSE(ag::IsTraining());
  }
  {
    ag::TrainModeScope train;
    EXPECT_TRUE(ag::IsTraining());
    EXPECT_FALSE(ag::IsRecording());
  }
  EXPECT_FALSE(ag::IsTraining());
  // Restored on exceptions too.
  try {
    ag::RecordScope rec;
    throw std::runtime_error("leave the scope");
  } catch (const std::runtime_error&) {
  }
  EXPECT_FALSE(ag::IsRecording());
}

TEST(Autograd, GradientOfXSquaredPlusSin) {
  NDArray x(kX, Shape(5));
  x.AttachGrad();
  NDArray y;
  {
    ag::RecordScope rec;
    y = x * x + mx::op::sin(x);
  }
  y.Backward();
  std::vector<double> want;
  for (float v : kX) want.push_back(2.0 * v + std::cos(v));
  mxtest::ExpectNear(x.Grad().ToVector<float>(), want, 1e-6);

  // A head gradient scales it; write replaces the previous gradient.
  {
    ag::RecordScope rec;
    y = x * x + mx::op::sin(x);
  }
  y.Backward(NDArray::Full(Shape(5), 3.0));
  for (auto& w : want) w *= 3;
  mxtest::ExpectNear(x.Grad().ToVector<float>(), want, 1e-6);
}

TEST(Autograd, ChainRuleThroughSeveralOps) {
  // z = sum(exp(x) * w) / 2 with w constant: dz/dx = exp(x) * w / 2.
  NDArray x(kX, Shape(5));
  NDArray w(std::vector<float>{1, 2, 3, 4, 5}, Shape(5));
  x.AttachGrad();
  NDArray z;
  {
    ag::RecordScope rec;
    z = mx::op::sum(mx::op::exp(x) * w) / 2.0;
  }
  ag::Backward(z);
  std::vector<double> want;
  for (size_t i = 0; i < kX.size(); ++i) want.push_back(std::exp(kX[i]) * (i + 1) / 2.0);
  mxtest::ExpectNear(x.Grad().ToVector<float>(), want, 1e-6);
}

TEST(Autograd, GradReqAddAccumulates) {
  NDArray x(kX, Shape(5));
  x.AttachGrad("add");
  for (int round = 0; round < 2; ++round) {
    NDArray y;
    {
      ag::RecordScope rec;
      y = x * 3.0;
    }
    y.Backward();
  }
  EXPECT_EQ(x.Grad().ToVector<float>(), std::vector<float>(5, 6.f));
  // MarkVariables with an explicit buffer and "null": no gradient flows into it.
  NDArray gbuf = NDArray::Full(Shape(5), 42.0);
  ag::MarkVariables({x}, {gbuf}, {"null"});
  NDArray y;
  {
    ag::RecordScope rec;
    y = x * x;
  }
  y.Backward();
  EXPECT_EQ(gbuf.ToVector<float>(), std::vector<float>(5, 42.f));
}

TEST(Autograd, GradAndSecondOrder) {
  // y = x^3: dy/dx = 3x^2, d2y/dx2 = 6x.
  NDArray x(kX, Shape(5));
  x.AttachGrad();
  std::vector<NDArray> dx;
  NDArray y;
  {
    ag::RecordScope rec;
    y = x * x * x;
    dx = ag::Grad({y}, {x}, {}, true, true);
  }
  ASSERT_EQ(dx.size(), 1u);
  std::vector<double> first, second;
  for (float v : kX) {
    first.push_back(3.0 * v * v);
    second.push_back(6.0 * v);
  }
  mxtest::ExpectNear(dx[0].ToVector<float>(), first, 1e-5);
  // Grad left the gradient buffer alone.
  EXPECT_EQ(x.Grad().ToVector<float>(), std::vector<float>(5, 0.f));
  dx[0].Backward();
  mxtest::ExpectNear(x.Grad().ToVector<float>(), second, 1e-5);
}

TEST(Autograd, TrainingModeDrivesDropout) {
  NDArray x = NDArray::Ones(Shape(1000));
  NDArray in_predict = mx::op::Dropout(x, 0.5);
  EXPECT_EQ(in_predict.ToVector<float>(), std::vector<float>(1000, 1.f));  // identity outside training
  NDArray in_train;
  {
    ag::TrainModeScope train;
    in_train = mx::op::Dropout(x, 0.5);
  }
  int zeros = 0, twos = 0;
  for (float v : in_train.ToVector<float>()) {
    if (v == 0.f) ++zeros;
    else if (v == 2.f) ++twos;  // kept values scaled by 1 / (1 - p)
  }
  EXPECT_EQ(zeros + twos, 1000);
  EXPECT_GT(zeros, 350);
  EXPECT_GT(twos, 350);
}

TEST(Autograd, DetachAndPause) {
  NDArray x(kX, Shape(5));
  x.AttachGrad();
  NDArray y;
  {
    ag::RecordScope rec;
    NDArray c = (x * 2.0).Detach();  // a constant for the graph
    NDArray d;
    {
      ag::PauseScope pause;
      d = x * 5.0;  // not recorded either
    }
    y = x * c + d;
  }
  y.Backward();
  // d/dx (x * c) with c = 2x held constant = c = 2x.
  std::vector<double> want;
  for (float v : kX) want.push_back(2.0 * v);
  mxtest::ExpectNear(x.Grad().ToVector<float>(), want, 1e-6);
}
