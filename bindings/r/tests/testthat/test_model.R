# Models: real MXNet 1.9.1 files predict their stored outputs; training, mx.mlp, save/load,
# optimizers (vs their update formulas in base R), metrics, callbacks and errors.

separable <- function(n = 200, seed = 1) {
  set.seed(seed)
  X <- matrix(rnorm(2 * n), 2)
  list(X = X, y = as.numeric(X[1, ] + 0.5 * X[2, ] > 0))
}

test_that("MXNet 1.9.1 exported models predict their stored outputs", {
  fx <- mx_fixture_dir()
  for (nm in c("cnn", "mlp_bn")) {
    model <- mx.model.load(file.path(fx, nm), 0)
    expect_s3_class(model, "MXFeedForwardModel")
    X <- read_npy(file.path(fx, paste0(nm, "_input.npy")))
    ref <- read_npy(file.path(fx, paste0(nm, "_output.npy")))
    n <- dim(X)[length(dim(X))]
    for (bs in c(128, 5)) {  # one batch; several with a padded last batch
      p <- predict(model, X, array.batch.size = bs)
      expect_equal(dim(p), dim(ref))
      expect_lt(max(abs(p - ref)), 1e-5)
    }
  }
  model <- mx.model.load(file.path(fx, "mlp_bn"), 0)
  expect_equal(sort(names(model$aux.params)),
               sort(mx.symbol.auxiliary.states(model$symbol)))
  # rows as samples
  X <- read_npy(file.path(fx, "mlp_bn_input.npy"))
  ref <- read_npy(file.path(fx, "mlp_bn_output.npy"))
  expect_lt(max(abs(predict(model, t(X), array.layout = "rowmajor") - ref)), 1e-5)
})

test_that("FeedForward.create learns a separable problem (symbol built with mx.symbol.*)", {
  d <- separable()
  mx.set.seed(11)
  data <- mx.symbol.Variable("data")
  fc1 <- mx.symbol.FullyConnected(data = data, num_hidden = 10, name = "fc1")
  act <- mx.symbol.Activation(data = fc1, act_type = "relu", name = "relu1")
  fc2 <- mx.symbol.FullyConnected(data = act, num_hidden = 2, name = "fc2")
  net <- mx.symbol.SoftmaxOutput(data = fc2, name = "sm")
  logger <- mx.metric.logger()
  epochs <- 0
  model <- mx.model.FeedForward.create(net, X = d$X, y = d$y, ctx = mx.cpu(), num.round = 15,
                                       array.batch.size = 32, learning.rate = 0.1,
                                       momentum = 0.9, initializer = mx.init.Xavier(),
                                       eval.metric = mx.metric.accuracy,
                                       epoch.end.callback = function(it, nb, env, verbose) {
                                         epochs <<- epochs + 1
                                         TRUE
                                       },
                                       batch.end.callback = mx.callback.log.train.metric(7, logger),
                                       verbose = FALSE)
  expect_equal(epochs, 15)
  expect_true(length(logger$train) > 0)
  expect_gt(logger$train[length(logger$train)], 0.9)
  p <- predict(model, d$X)
  expect_equal(dim(p), c(2L, 200L))
  expect_equal(colSums(p), rep(1, 200), tolerance = 1e-5)
  expect_gt(mean((p[2, ] > 0.5) == d$y), 0.95)
  expect_setequal(names(model$arg.params), c("fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias"))
})

test_that("mx.mlp trains with sgd and adam, matrix in either layout", {
  d <- separable(seed = 2)
  mx.set.seed(2)
  m1 <- mx.mlp(d$X, d$y, hidden_node = 8, out_node = 2, num.round = 20, array.batch.size = 20,
               learning.rate = 0.1, momentum = 0.9, verbose = FALSE)
  expect_gt(mean((predict(m1, d$X)[2, ] > 0.5) == d$y), 0.95)
  m2 <- mx.mlp(t(d$X), d$y, hidden_node = c(8, 4), out_node = 2, num.round = 25,
               array.batch.size = 20, optimizer = "adam", learning.rate = 0.02,
               activation = "relu", verbose = FALSE)
  p <- predict(m2, t(d$X), array.layout = "rowmajor")
  expect_gt(mean((p[2, ] > 0.5) == d$y), 0.95)
  # regression: y = 2 a - b
  set.seed(5)
  X <- matrix(runif(400, -1, 1), 2)
  y <- 2 * X[1, ] - X[2, ]
  m3 <- mx.mlp(X, y, hidden_node = 16, out_node = 1, out_activation = "rmse",
               num.round = 60, array.batch.size = 20, learning.rate = 0.05, momentum = 0.9,
               eval.metric = mx.metric.rmse, verbose = FALSE)
  expect_lt(sqrt(mean((predict(m3, X) - y)^2)), 0.15)
})

test_that("mx.model.save / mx.model.load round trip", {
  d <- separable(seed = 3)
  mx.set.seed(3)
  m <- mx.mlp(d$X, d$y, hidden_node = 6, out_node = 2, num.round = 3, verbose = FALSE)
  prefix <- file.path(tempdir(), "roundtrip")
  mx.model.save(m, prefix, 7)
  expect_true(file.exists(paste0(prefix, "-symbol.json")))
  expect_true(file.exists(paste0(prefix, "-0007.params")))
  m2 <- mx.model.load(prefix, 7)
  expect_setequal(names(m2$arg.params), names(m$arg.params))
  for (nm in names(m$arg.params)) {
    expect_identical(as.array(m2$arg.params[[nm]]), as.array(m$arg.params[[nm]]))
  }
  expect_identical(predict(m2, d$X), predict(m, d$X))
  # checkpoint callback writes the same pair of files
  cp <- file.path(tempdir(), "ckpt")
  mx.model.FeedForward.create(m$symbol, d$X, d$y, num.round = 2, verbose = FALSE,
                              epoch.end.callback = mx.callback.save.checkpoint(cp))
  expect_true(file.exists(paste0(cp, "-0002.params")))
  expect_s3_class(mx.model.load(cp, 2), "MXFeedForwardModel")
})

test_that("a callback returning FALSE stops training", {
  d <- separable(seed = 4)
  n <- 0
  mx.mlp(d$X, d$y, hidden_node = 4, out_node = 2, num.round = 10, verbose = FALSE,
         epoch.end.callback = function(it, nb, env, verbose) { n <<- n + 1; it < 3 })
  expect_equal(n, 3)
})

test_that("optimizer steps follow their update rules (base R reference)", {
  set.seed(9)
  w0 <- matrix(rnorm(12), 3)
  g0 <- matrix(rnorm(12), 3)
  w <- mx.nd.array(w0)
  g <- mx.nd.array(g0)
  opt <- mx.opt.sgd(learning.rate = 0.1, wd = 0.01, rescale.grad = 0.5)
  upd <- mx.opt.get.updater(opt, list(w))
  upd(list(w), list(g))
  expect_equal(as.array(w), w0 - 0.1 * (0.5 * g0 + 0.01 * w0), tolerance = 1e-6)
  # momentum: mom = m * mom - lr * (g + wd w); w += mom
  w <- mx.nd.array(w0)
  upd <- mx.opt.get.updater(mx.opt.sgd(learning.rate = 0.1, momentum = 0.9), list(w))
  upd(list(w), list(g))
  upd(list(w), list(g))
  m1 <- -0.1 * g0
  w1 <- w0 + m1
  m2 <- 0.9 * m1 - 0.1 * g0
  expect_equal(as.array(w), w1 + m2, tolerance = 1e-6)
  # adam, two steps
  w <- mx.nd.array(w0)
  upd <- mx.opt.get.updater(mx.opt.adam(learning.rate = 0.01), list(w))
  ref <- w0
  m <- v <- 0 * w0
  for (t in 1:2) {
    upd(list(w), list(g))
    m <- 0.9 * m + 0.1 * g0
    v <- 0.999 * v + 0.001 * g0^2
    ref <- ref - 0.01 * (m / (1 - 0.9^t)) / (sqrt(v / (1 - 0.999^t)) + 1e-8)
  }
  expect_equal(as.array(w), ref, tolerance = 1e-5)
})

test_that("metrics agree with base R", {
  set.seed(10)
  pred <- matrix(runif(30), 3)
  label <- sample(0:2, 10, replace = TRUE)
  st <- mx.metric.accuracy$update(mx.nd.array(label), mx.nd.array(pred), mx.metric.accuracy$init())
  expect_equal(mx.metric.accuracy$get(st)$value, mean(max.col(t(pred)) - 1 == label))
  p <- runif(10)
  y <- runif(10)
  st <- mx.metric.rmse$update(mx.nd.array(y), mx.nd.array(p), mx.metric.rmse$init())
  expect_equal(mx.metric.rmse$get(st)$value, sqrt(mean((p - y)^2)), tolerance = 1e-6)
  st <- mx.metric.mae$update(mx.nd.array(y), mx.nd.array(p), mx.metric.mae$init())
  expect_equal(mx.metric.mae$get(st)$value, mean(abs(p - y)), tolerance = 1e-6)
  cm <- mx.metric.custom("maxerr", function(label, pred) max(abs(label - pred)))
  st <- cm$update(mx.nd.array(y), mx.nd.array(p), cm$init())
  expect_equal(cm$get(st)$value, max(abs(p - y)), tolerance = 1e-6)
})

test_that("initializers follow the parameter-name rules", {
  mx.set.seed(1)
  init <- mx.init.uniform(0.1)
  w <- as.array(init("fc1_weight", c(5, 4)))
  expect_equal(dim(w), c(5L, 4L))
  expect_true(all(abs(w) <= 0.1) && sd(as.vector(w)) > 0)
  expect_true(all(as.array(init("fc1_bias", 4)) == 0))
  expect_true(all(as.array(init("bn_gamma", 4)) == 1))
  expect_true(all(as.array(init("bn_moving_var", 4)) == 1))
  expect_true(all(as.array(init("bn_moving_mean", 4)) == 0))
  x <- as.array(mx.init.Xavier(magnitude = 3)("w_weight", c(30, 10)))  # fan in 30, out 10
  expect_true(all(abs(x) <= sqrt(3 / 20) + 1e-7))
  expect_true(all(as.array(mx.init.constant(0.5)("a_weight", c(2, 2))) == 0.5))
  arrays <- mx.init.create(init, list(data = c(4, 2), fc_weight = c(4, 3), fc_bias = 3,
                                      sm_label = 2))
  expect_setequal(names(arrays), c("fc_weight", "fc_bias"))
})

test_that("bad input gives clear R errors", {
  fx <- mx_fixture_dir()
  expect_error(mx.model.load(file.path(tempdir(), "no-such-model"), 0), "not found")
  bad <- file.path(tempdir(), "corrupt")
  writeLines("{ this is not json", paste0(bad, "-symbol.json"))
  writeBin(as.raw(c(1, 2, 3, 4, 5)), paste0(bad, "-0000.params"))
  expect_error(mx.model.load(bad, 0), "symbol file")
  file.copy(file.path(fx, "cnn-symbol.json"), paste0(bad, "-symbol.json"), overwrite = TRUE)
  expect_error(mx.model.load(bad, 0), "parameter file")
  expect_error(mx.model.load(file.path(fx, "cnn"), -1), "iteration")
  model <- mx.model.load(file.path(fx, "cnn"), 0)
  expect_error(predict(model, array(0, c(28, 28, 3, 2))), "do not fit")
  expect_error(predict(model, array(0, c(10, 10, 1, 2))), "do not fit")
  expect_error(predict(model, matrix("a", 2, 2)), "numeric")
  expect_error(predict(model, array(NA_real_, c(28, 28, 1, 1))), "NA")
  expect_error(mx.model.save(list(), file.path(tempdir(), "m"), 1), "MXFeedForwardModel")
  d <- separable()
  expect_error(mx.mlp(d$X, d$y[-1], hidden_node = 3, out_node = 2, verbose = FALSE), "labels")
  expect_error(mx.mlp(d$X, d$y, hidden_node = 3, out_node = 2, optimizer = "nope",
                      verbose = FALSE), "unknown optimizer")
  expect_error(mx.mlp(d$X, letters[1:200], hidden_node = 3, out_node = 2, verbose = FALSE),
               "numeric")
  expect_error(mx.mlp(d$X, d$y, hidden_node = -1, out_node = 2), "hidden_node")
  expect_error(mx.opt.sgd(learning.rate = "a"), "learning.rate")
})
