# The Gluon-style API: parameters saved by real MXNet 1.9.1 reproduce its outputs; gradients vs
# base R formulas and finite differences; batch norm / dropout modes; training; errors.

fixture_cnn <- function() {
  mx.gluon.sequential(mx.gluon.conv2d(32, 3, padding = 1, activation = "relu"),
                      mx.gluon.maxpool2d(2),
                      mx.gluon.conv2d(64, 3, padding = 1, activation = "relu"),
                      mx.gluon.maxpool2d(2), mx.gluon.flatten(), mx.gluon.dense(10))
}

fixture_mlp_bn <- function() {
  mx.gluon.sequential(mx.gluon.dense(64, in.units = 20), mx.gluon.batchnorm(in.channels = 64),
                      mx.gluon.activation("relu"), mx.gluon.dropout(0.5),
                      mx.gluon.dense(32, in.units = 64), mx.gluon.batchnorm(in.channels = 32),
                      mx.gluon.activation("relu"), mx.gluon.dropout(0.5),
                      mx.gluon.dense(10, in.units = 32))
}

test_that("save_parameters files of MXNet 1.9.1 give its outputs", {
  fx <- mx_fixture_dir()
  for (case in list(list("cnn", fixture_cnn()), list("mlp_bn", fixture_mlp_bn()))) {
    net <- case[[2]]
    mx.gluon.load.parameters(net, file.path(fx, paste0(case[[1]], "_gluon.params")))
    X <- read_npy(file.path(fx, paste0(case[[1]], "_input.npy")))
    ref <- read_npy(file.path(fx, paste0(case[[1]], "_output.npy")))
    out <- as.array(mx.gluon.forward(net, X))
    expect_equal(dim(out), dim(ref))
    expect_lt(max(abs(out - ref)), 1e-5)
  }
  # the exported (arg:/aux:) file's values under structural names are the same network
  net <- fixture_cnn()
  expect_error(mx.gluon.load.parameters(net, file.path(fx, "cnn-0000.params")), "missing")
})

test_that("save/load parameters round trip with structural names", {
  mx.set.seed(4)
  net <- mx.gluon.sequential(mx.gluon.dense(5, activation = "tanh"),
                             mx.gluon.sequential(mx.gluon.dense(4), mx.gluon.batchnorm()),
                             mx.gluon.dense(3))
  mx.gluon.initialize(net, mx.init.Xavier())
  x <- matrix(rnorm(24), 6)
  out <- as.array(mx.gluon.forward(net, x))
  f <- file.path(tempdir(), "gluon_rt.params")
  mx.gluon.save.parameters(net, f)
  expect_setequal(names(mx.nd.load(f)),
                  c("0.weight", "0.bias", "1.0.weight", "1.0.bias", "1.1.gamma", "1.1.beta",
                    "1.1.running_mean", "1.1.running_var", "2.weight", "2.bias"))
  net2 <- mx.gluon.sequential(mx.gluon.dense(5, activation = "tanh"),
                              mx.gluon.sequential(mx.gluon.dense(4), mx.gluon.batchnorm()),
                              mx.gluon.dense(3))
  mx.gluon.load.parameters(net2, f)
  expect_identical(as.array(mx.gluon.forward(net2, x)), out)
  # loading into initialised parameters copies into them
  mx.gluon.initialize(net, mx.init.uniform(1), force.reinit = TRUE)
  mx.gluon.forward(net, x)
  mx.gluon.load.parameters(net, f)
  expect_identical(as.array(mx.gluon.forward(net, x)), out)
})

test_that("dense gradients match base R, a small net matches finite differences", {
  mx.set.seed(5)
  set.seed(5)
  net <- mx.gluon.sequential(mx.gluon.dense(3))
  mx.gluon.initialize(net, mx.init.normal(0.5))
  x <- matrix(rnorm(8), 4)   # 4 features, 2 samples
  t <- matrix(rnorm(6), 3)
  loss <- mx.autograd.record(mx.gluon.loss.l2(mx.gluon.forward(net, x), t))
  mx.autograd.backward(loss)
  p <- mx.gluon.collect.params(net)
  W <- t(as.array(p[["0.weight"]]))  # R dims c(in, out) -> W is out x in
  b <- as.vector(as.array(p[["0.bias"]]))
  y <- W %*% x + b
  # l2 per sample: mean over the 3 outputs of 0.5 (y - t)^2, summed over samples
  dy <- (y - t) / 3
  expect_equal(t(as.array(mx.nd.grad(p[["0.weight"]]))), dy %*% t(x), tolerance = 1e-5)
  expect_equal(as.vector(as.array(mx.nd.grad(p[["0.bias"]]))), rowSums(dy), tolerance = 1e-5)
  expect_equal(as.vector(as.array(loss)), colMeans(0.5 * (y - t)^2), tolerance = 1e-5)

  # softmax cross entropy through tanh: finite differences on one weight matrix
  net <- mx.gluon.sequential(mx.gluon.dense(4, activation = "tanh"), mx.gluon.dense(3))
  mx.gluon.initialize(net, mx.init.normal(0.5))
  x <- matrix(rnorm(10), 5)
  lab <- c(0, 2)
  total <- function() sum(as.array(mx.gluon.loss.softmax.cross.entropy(mx.gluon.forward(net, x),
                                                                       lab)))
  l <- mx.autograd.record(mx.gluon.loss.softmax.cross.entropy(mx.gluon.forward(net, x), lab))
  mx.autograd.backward(l)
  w <- mx.gluon.collect.params(net)[["0.weight"]]
  g <- as.array(mx.nd.grad(w))
  w0 <- as.array(w)
  eps <- 1e-2
  fd <- w0 * 0
  for (i in seq_along(w0)) {
    wp <- w0; wp[i] <- wp[i] + eps
    .Call(mx:::C_mxr_nd_copy_from_r, w, wp)
    lp <- total()
    wm <- w0; wm[i] <- wm[i] - eps
    .Call(mx:::C_mxr_nd_copy_from_r, w, wm)
    lm <- total()
    fd[i] <- (lp - lm) / (2 * eps)
  }
  .Call(mx:::C_mxr_nd_copy_from_r, w, w0)
  expect_lt(max(abs(fd - g)), 2e-3)
})

test_that("batch norm and dropout follow autograd's training mode", {
  mx.set.seed(6)
  set.seed(6)
  bn <- mx.gluon.batchnorm(momentum = 0.9)
  net <- mx.gluon.sequential(bn)
  mx.gluon.initialize(net)
  x <- matrix(rnorm(40, mean = 3, sd = 2), 4)  # 4 channels, 10 samples
  out.pred <- as.array(mx.gluon.forward(net, x))  # running stats 0 / 1
  expect_equal(out.pred, x / sqrt(1 + 1e-5), tolerance = 1e-5)
  out.train <- as.array(mx.autograd.record(mx.gluon.forward(net, x)))
  mu <- rowMeans(x)
  v <- rowMeans((x - mu)^2)
  expect_equal(out.train, (x - mu) / sqrt(v + 1e-5), tolerance = 1e-4)
  p <- mx.gluon.collect.params(net)
  expect_equal(as.vector(as.array(p[["0.running_mean"]])), 0.1 * mu, tolerance = 1e-5)

  drop <- mx.gluon.sequential(mx.gluon.dropout(0.5))
  mx.gluon.initialize(drop)
  ones <- matrix(1, 50, 40)
  expect_identical(as.array(mx.gluon.forward(drop, ones)), ones)
  d <- as.array(mx.autograd.record(mx.gluon.forward(drop, ones)))
  expect_true(all(d == 0 | abs(d - 2) < 1e-6))
  expect_gt(mean(d == 0), 0.4)
  expect_lt(mean(d == 0), 0.6)
})

test_that("a trainer step is one SGD update; training learns a separable problem", {
  mx.set.seed(7)
  set.seed(7)
  net <- mx.gluon.sequential(mx.gluon.dense(2))
  mx.gluon.initialize(net)
  x <- matrix(rnorm(6), 3)
  tr <- mx.gluon.trainer(net, "sgd", learning.rate = 0.5)
  l <- mx.autograd.record(mx.gluon.loss.softmax.cross.entropy(mx.gluon.forward(net, x), c(0, 1)))
  mx.autograd.backward(l)
  w <- mx.gluon.collect.params(net)[["0.weight"]]
  w0 <- as.array(w)
  g0 <- as.array(mx.nd.grad(w))
  mx.gluon.trainer.step(tr, 2)
  expect_equal(as.array(w), w0 - 0.5 * g0 / 2, tolerance = 1e-6)

  n <- 200
  X <- matrix(rnorm(2 * n), 2)
  y <- as.numeric(X[1, ] - X[2, ] > 0)
  for (opt in list(list("sgd", learning.rate = 0.5), list("adam", learning.rate = 0.05))) {
    net <- mx.gluon.sequential(mx.gluon.dense(16, activation = "relu"), mx.gluon.dropout(0.1),
                               mx.gluon.dense(2))
    mx.gluon.initialize(net, mx.init.Xavier())
    tr <- do.call(mx.gluon.trainer, c(list(net), opt))
    first <- NULL
    for (ep in 1:40) {
      for (b in 0:3) {
        idx <- b * 50 + 1:50
        l <- mx.autograd.record(
          mx.gluon.loss.softmax.cross.entropy(mx.gluon.forward(net, X[, idx]), y[idx]))
        mx.autograd.backward(l)
        mx.gluon.trainer.step(tr, 50)
        if (is.null(first)) first <- mean(as.array(l))
      }
    }
    p <- as.array(mx.gluon.forward(net, X))
    expect_gt(mean((p[2, ] > p[1, ]) == y), 0.95)
    expect_lt(mean(as.array(l)), first)
  }
})

test_that("a small CNN trains on R arrays c(W, H, C, N)", {
  mx.set.seed(8)
  set.seed(8)
  n <- 32
  X <- array(runif(8 * 8 * 1 * n), c(8, 8, 1, n))
  y <- rep(0:1, n / 2)
  X[3:6, 3:6, 1, y == 1] <- X[3:6, 3:6, 1, y == 1] + 1  # a bright square means class 1
  net <- mx.gluon.sequential(mx.gluon.conv2d(4, 3, padding = 1), mx.gluon.batchnorm(),
                             mx.gluon.activation("relu"), mx.gluon.maxpool2d(2),
                             mx.gluon.flatten(), mx.gluon.dense(2))
  mx.gluon.initialize(net, mx.init.Xavier())
  tr <- mx.gluon.trainer(net, "adam", learning.rate = 0.05)
  for (i in 1:30) {
    l <- mx.autograd.record(mx.gluon.loss.softmax.cross.entropy(mx.gluon.forward(net, X), y))
    mx.autograd.backward(l)
    mx.gluon.trainer.step(tr, n)
  }
  p <- as.array(mx.gluon.forward(net, X))
  expect_equal(dim(p), c(2L, n))
  expect_equal(mean((p[2, ] > p[1, ]) == y), 1)
  expect_equal(dim(mx.gluon.collect.params(net)[["0.weight"]]), c(3L, 3L, 1L, 4L))
})

test_that("bad use gives clear R errors", {
  net <- mx.gluon.sequential(mx.gluon.dense(3))
  expect_error(mx.gluon.forward(net, matrix(1, 2, 2)), "initialize")
  expect_error(mx.gluon.collect.params(net), "not initialised")
  mx.gluon.initialize(net)
  expect_error(mx.gluon.forward(net, matrix("a", 2, 2)), "numeric")
  mx.gluon.forward(net, matrix(1, 4, 2))
  expect_error(mx.gluon.forward(net, matrix(1, 5, 2)), "")
  conv <- mx.gluon.sequential(mx.gluon.conv2d(2, 3))
  mx.gluon.initialize(conv)
  expect_error(mx.gluon.forward(conv, matrix(1, 4, 2)), "input dims")
  f <- file.path(tempdir(), "gluon_small.params")
  mx.gluon.save.parameters(net, f)
  other <- mx.gluon.sequential(mx.gluon.dense(3), mx.gluon.dense(2))
  expect_error(mx.gluon.load.parameters(other, f), "missing")
  wrong <- mx.gluon.sequential(mx.gluon.dense(3))
  mx.gluon.initialize(wrong)
  mx.gluon.forward(wrong, matrix(1, 6, 2))
  expect_error(mx.gluon.load.parameters(wrong, f), "dims")
  expect_error(mx.gluon.load.parameters(wrong, file.path(tempdir(), "none.params")), "not found")
  expect_error(mx.gluon.dense(0), "units")
  expect_error(mx.gluon.dropout(1), "rate")
  expect_error(mx.gluon.conv2d(4, c(1, 2, 3)), "kernel.size")
  expect_error(mx.gluon.add(net, 3), "Gluon block")
  expect_error(mx.gluon.trainer.step(net, 1), "mx.gluon.trainer")
  expect_error(mx.gluon.trainer(net, "nope"), "unknown optimizer")
})
