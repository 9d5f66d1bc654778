// train_mlp: trains a small MLP on synthetic, separable data with the MX C++ package (mx::nn blocks,
// autograd, Trainer) and exports it for Python, C++ (examples/cpp/predict) or the C predict API.
//
//   train_mlp PREFIX [--epochs N] [--seed S] [--lr LR] [--init-params FILE]
//
// The net (Gluon structural names in brackets):
//   Dense(32, relu, in_units 8) [0] -> BatchNorm [1] -> Dropout(0.2) [2] -> Dense(4) [3]
// The data: 4 classes in 8 dimensions; a sample of class c is N(mu_c, I) with mu_c[j] = 2.5 where
// j % 4 == c, else 0. 1024 training samples (batches of 64) and 256 held-out samples, drawn with
// std::mt19937 seeded by S (default 1); S also seeds libmx's generators (initial weights, Dropout).
//
// --init-params FILE starts from parameters saved by Gluon's save_parameters (Python's
// net.save_parameters of the same architecture, or a previous run's PREFIX.params) instead of
// Xavier-initialized weights. --epochs 0 only evaluates and exports.
//
// Prints one line per epoch, "epoch <i> loss <mean training loss> accuracy <training accuracy>",
// then writes
//   PREFIX-symbol.json, PREFIX-0000.params  Gluon's export (Python: SymbolBlock.imports(
//                                           "PREFIX-symbol.json", ["data"], "PREFIX-0000.params"))
//   PREFIX.params                           Gluon's save_parameters (Python: net.load_parameters)
//   PREFIX-eval.nd                          {"data": held-out samples (256, 8), "label": their
//                                           classes (256,), "prob": this net's softmax
//                                           probabilities on them in inference mode (256, 4)}
// and a last line "held-out accuracy <a>".
// Exit status: 0 on success, 1 on an MX error, 2 on a usage error.
#include <mx/mx.hpp>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr int kDim = 8;
constexpr int kClasses = 4;
constexpr int kTrain = 1024;
constexpr int kEval = 256;
constexpr int kBatch = 64;

// n samples of the synthetic classes (x: n * kDim floats, y: n class indices as floats).
void MakeData(std::mt19937& rng, int n, std::vector<float>* x, std::vector<float>* y) {
  std::uniform_int_distribution<int> cls(0, kClasses - 1);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  x->resize(static_cast<size_t>(n) * kDim);
  y->resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    int c = cls(rng);
    (*y)[static_cast<size_t>(i)] = static_cast<float>(c);
    for (int j = 0; j < kDim; ++j)
      (*x)[static_cast<size_t>(i) * kDim + static_cast<size_t>(j)] = (j % kClasses == c ? 2.5f : 0.0f) + noise(rng);
  }
}

// Fraction of rows whose largest score is the label (a reading of the results, not training math).
double Accuracy(const mx::NDArray& scores, const std::vector<float>& labels, size_t offset) {
  std::vector<float> s = scores.ToVector<float>();
  size_t rows = s.size() / kClasses, hits = 0;
  for (size_t r = 0; r < rows; ++r) {
    size_t best = 0;
    for (size_t j = 1; j < kClasses; ++j)
      if (s[r * kClasses + j] > s[r * kClasses + best]) best = j;
    hits += static_cast<float>(best) == labels[offset + r];
  }
  return rows ? static_cast<double>(hits) / static_cast<double>(rows) : 0.0;
}

int Usage(const char* msg) {
  if (msg) std::fprintf(stderr, "train_mlp: %s\n", msg);
  std::fprintf(stderr, "usage: train_mlp PREFIX [--epochs N] [--seed S] [--lr LR] [--init-params FILE]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string prefix, init_params;
  long epochs = 10;
  unsigned long seed = 1;
  double lr = 0.1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    char* end = nullptr;
    if (a == "--epochs" && i + 1 < argc) {
      epochs = std::strtol(argv[++i], &end, 10);
      if (*end || epochs < 0) return Usage("--epochs needs a non-negative integer");
    } else if (a == "--seed" && i + 1 < argc) {
      seed = std::strtoul(argv[++i], &end, 10);
      if (*end) return Usage("--seed needs an integer");
    } else if (a == "--lr" && i + 1 < argc) {
      lr = std::strtod(argv[++i], &end);
      if (*end || !(lr > 0)) return Usage("--lr needs a positive number");
    } else if (a == "--init-params" && i + 1 < argc) {
      init_params = argv[++i];
    } else if (a.size() > 1 && a[0] == '-') {
      return Usage(("unknown option " + a).c_str());
    } else if (prefix.empty()) {
      prefix = a;
    } else {
      return Usage("one PREFIX expected");
    }
  }
  if (prefix.empty()) return Usage("PREFIX is missing");

  try {
    std::mt19937 rng(static_cast<std::mt19937::result_type>(seed));
    std::vector<float> xtrain, ytrain, xeval, yeval;
    MakeData(rng, kTrain, &xtrain, &ytrain);
    MakeData(rng, kEval, &xeval, &yeval);
    mx::NDArray X(xtrain, mx::Shape(kTrain, kDim)), Y(ytrain, mx::Shape(kTrain));
    mx::NDArray Xe(xeval, mx::Shape(kEval, kDim)), Ye(yeval, mx::Shape(kEval));
    mx::RandomSeed(seed);

    mx::nn::Sequential net;
    net.Add(mx::nn::Dense(32, "relu", true, kDim))
        .Add(mx::nn::BatchNorm())
        .Add(mx::nn::Dropout(0.2))
        .Add(mx::nn::Dense(kClasses));  // in_units deferred: known at the first forward
    net.Initialize(mx::nn::Xavier());
    if (!init_params.empty()) net.LoadParameters(init_params);

    mx::nn::Trainer trainer(net.CollectParams(), "sgd", {{"lr", lr}, {"momentum", 0.9}});
    mx::nn::SoftmaxCrossEntropyLoss loss_fn;
    for (long epoch = 1; epoch <= epochs; ++epoch) {
      double loss_sum = 0, acc_sum = 0;
      int batches = 0;
      for (int b = 0; b < kTrain; b += kBatch) {
        mx::NDArray x = X.Slice(b, b + kBatch), y = Y.Slice(b, b + kBatch);
        mx::NDArray out, loss;
        {
          mx::autograd::RecordScope record;  // training mode: Dropout drops, BatchNorm updates
          out = net(x);
          loss = loss_fn(out, y);
        }
        loss.Backward();
        trainer.Step(kBatch);
        loss_sum += mx::Operator("mean").SetInput("data", loss).Invoke()[0].ToVector<float>()[0];
        acc_sum += Accuracy(out, ytrain, static_cast<size_t>(b));
        ++batches;
      }
      std::printf("epoch %ld loss %.6f accuracy %.4f\n", epoch, loss_sum / batches, acc_sum / batches);
      std::fflush(stdout);
    }

    // Inference mode (outside RecordScope): Dropout is the identity, BatchNorm uses running stats.
    mx::NDArray prob = mx::Operator("softmax").SetInput("data", net(Xe)).Invoke()[0];
    net.Export(prefix, 0);
    net.SaveParameters(prefix + ".params");
    mx::NDArray::Save(prefix + "-eval.nd", std::map<std::string, mx::NDArray>{{"data", Xe}, {"label", Ye}, {"prob", prob}});
    std::printf("exported %s-symbol.json %s-0000.params %s.params %s-eval.nd\n", prefix.c_str(), prefix.c_str(),
                prefix.c_str(), prefix.c_str());
    std::printf("held-out accuracy %.4f\n", Accuracy(prob, yeval, 0));
    return 0;
  } catch (const mx::Error& e) {
    std::fprintf(stderr, "train_mlp: MX error (status %d): %s\n", e.status(), e.what());
    return 1;
  }
}
