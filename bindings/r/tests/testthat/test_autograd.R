# Autograd against finite differences computed in R.

# Central differences of the scalar function f at x (an R array).
fd_grad <- function(f, x, eps = 1e-6) {
  g <- x
  for (i in seq_along(x)) {
    xp <- x; xp[i] <- xp[i] + eps
    xm <- x; xm[i] <- xm[i] - eps
    g[i] <- (f(xp) - f(xm)) / (2 * eps)
  }
  g
}

test_that("gradients of elementwise formulas match finite differences of base R", {
  set.seed(1)
  x <- array(runif(6, 0.5, 2), c(3, 2))
  f_r <- function(v) sum(sin(v) * v^2 + exp(-v) / v)
  a <- mx.nd.array(x, dtype = "float64")
  mx.nd.attach.grad(a)
  y <- mx.autograd.record(mx.nd.sum(mx.nd.sin(a) * a^2 + mx.nd.exp(-a) / a))
  expect_equal(as.vector(as.array(y)), f_r(x), tolerance = 1e-12)
  mx.autograd.backward(y)
  expect_equal(as.array(mx.nd.grad(a)), fd_grad(f_r, x), tolerance = 1e-7)
})

test_that("gradients through nn ops match finite differences of the same ops", {
  set.seed(2)
  x <- matrix(rnorm(12), 4, 3)
  w <- matrix(rnorm(8), 4, 2)
  lab <- c(0, 1, 1)
  f_mx <- function(wv, with.grad = FALSE) {
    xa <- mx.nd.array(x, dtype = "float64")
    wa <- mx.nd.array(wv, dtype = "float64")
    if (with.grad) mx.nd.attach.grad(wa)
    loss <- mx.autograd.record({
      h <- mx.nd.tanh(mx.nd.FullyConnected(xa, wa, num_hidden = 2, no_bias = TRUE))
      p <- mx.nd.log_softmax(h)
      -mx.nd.sum(mx.nd.pick(p, mx.nd.array(lab, dtype = "float64"), axis = 1))
    })
    if (with.grad) {
      mx.autograd.backward(loss)
      return(as.array(mx.nd.grad(wa)))
    }
    as.vector(as.array(loss))
  }
  # the same loss in base R: h = tanh(t(w) x), log-softmax over the 2 rows of each column
  f_r <- function(wv) {
    h <- tanh(t(wv) %*% x)
    lp <- apply(h, 2, function(v) v - log(sum(exp(v))))
    -sum(lp[cbind(lab + 1, 1:3)])
  }
  expect_equal(f_mx(w), f_r(w), tolerance = 1e-12)
  g <- f_mx(w, with.grad = TRUE)
  expect_equal(g, fd_grad(f_r, w), tolerance = 1e-7)
  expect_equal(g, fd_grad(function(v) f_mx(v), w), tolerance = 1e-7)
})

test_that("record restores the previous state, also on error; train/predict modes", {
  expect_false(mx.autograd.is.recording())
  expect_false(mx.autograd.is.training())
  inside <- mx.autograd.record(c(mx.autograd.is.recording(), mx.autograd.is.training()))
  expect_equal(inside, c(TRUE, TRUE))
  expect_equal(mx.autograd.record(mx.autograd.is.training(), train.mode = FALSE), FALSE)
  expect_error(mx.autograd.record(stop("boom")), "boom")
  expect_false(mx.autograd.is.recording())
  expect_false(mx.autograd.is.training())
  expect_true(mx.autograd.train.mode(mx.autograd.is.training()))
  expect_false(mx.autograd.record(mx.autograd.pause(mx.autograd.is.recording())))
  expect_false(mx.autograd.record(mx.autograd.predict.mode(mx.autograd.is.training())))
  expect_false(mx.autograd.set.recording(TRUE))
  expect_true(mx.autograd.set.recording(FALSE))
  expect_false(mx.autograd.set.training(TRUE))
  expect_true(mx.autograd.set.training(FALSE))
  # Dropout follows training mode
  x <- mx.nd.ones(1000)
  expect_equal(as.array(mx.autograd.record(mx.nd.Dropout(x, p = 0.5), train.mode = FALSE)),
               array(1, 1000))
  d <- as.array(mx.autograd.record(mx.nd.Dropout(x, p = 0.5)))
  expect_true(all(d == 0 | abs(d - 2) < 1e-6))
  expect_true(any(d == 0))
})

test_that("grad.req add, mark.variables, grad() and detach", {
  a <- mx.nd.array(c(1, 2, 3), dtype = "float64")
  mx.nd.attach.grad(a, grad.req = "add")
  for (i in 1:2) {
    y <- mx.autograd.record(mx.nd.sum(a * a))
    mx.nd.backward(y)
  }
  expect_equal(as.vector(as.array(mx.nd.grad(a))), 2 * 2 * c(1, 2, 3))
  b <- mx.nd.array(c(0.5, -1), dtype = "float64")
  gb <- mx.nd.zeros(2, dtype = "float64")
  mx.autograd.mark.variables(list(b), list(gb))
  y <- mx.autograd.record(mx.nd.sum(mx.nd.exp(b)))
  mx.autograd.backward(y)
  expect_equal(as.vector(as.array(gb)), exp(c(0.5, -1)), tolerance = 1e-12)
  # grad() returns new arrays and leaves the buffers alone
  c0 <- mx.nd.array(c(1, 4), dtype = "float64")
  mx.nd.attach.grad(c0)
  y <- mx.autograd.record(mx.nd.sum(mx.nd.sqrt(c0)))
  g <- mx.autograd.grad(y, c0)
  expect_equal(as.vector(as.array(g)), 0.5 / sqrt(c(1, 4)), tolerance = 1e-12)
  expect_equal(as.vector(as.array(mx.nd.grad(c0))), c(0, 0))
  # head gradients scale the result
  y <- mx.autograd.record(mx.nd.sqrt(c0))
  mx.autograd.backward(y, head.grads = mx.nd.array(c(2, 3), dtype = "float64"))
  expect_equal(as.vector(as.array(mx.nd.grad(c0))), c(2, 3) * 0.5 / sqrt(c(1, 4)))
  # detached arrays stop the gradient
  y <- mx.autograd.record(mx.nd.sum(c0 * mx.nd.detach(c0)))
  mx.autograd.backward(y)
  expect_equal(as.vector(as.array(mx.nd.grad(c0))), c(1, 4))
  expect_null(mx.nd.grad(mx.nd.array(1)))
})

test_that("bad autograd input gives R errors", {
  a <- mx.nd.array(c(1, 2))
  y <- mx.nd.sum(a)  # not recorded
  expect_error(mx.autograd.backward(y))
  expect_error(mx.autograd.backward("y"), "MXNDArray")
  expect_error(mx.autograd.record(1, train.mode = NA), "TRUE or FALSE")
  expect_error(mx.nd.attach.grad(1:3), "must be an MXNDArray")
  expect_error(mx.nd.attach.grad(a, grad.req = "maybe"), "grad.req")
  expect_error(mx.autograd.mark.variables(list(a), list(mx.nd.zeros(3))), "dims")
  expect_error(mx.autograd.mark.variables(list(a), list()), "list")
  mx.nd.attach.grad(a)
  z <- mx.autograd.record(mx.nd.sum(a))
  expect_error(mx.autograd.backward(z, head.grads = list(a, a)), "list of 1")
  expect_false(mx.autograd.is.recording())
})
