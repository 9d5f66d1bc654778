# Executors: simple.bind / bind, forward and backward against R formulas and MXNet fixtures.

test_that("simple.bind allocates every array in R dim order", {
  data <- mx.symbol.Variable("data")
  fc <- mx.symbol.FullyConnected(data, num_hidden = 2, name = "fc")
  ex <- mx.simple.bind(fc, mx.cpu(), grad.req = "write", data = c(4, 3))
  expect_true(is.MXExecutor(ex))
  expect_output(print(ex), "3 argument")
  args <- ex$arg.arrays
  expect_equal(names(args), c("data", "fc_weight", "fc_bias"))
  expect_equal(dim(args$fc_weight), c(4L, 2L))
  expect_equal(as.array(args$fc_weight), array(0, c(4, 2)))
  expect_equal(names(ex$grad.arrays), names(args))
  expect_equal(dim(ex$outputs[[1]]), c(2L, 3L))
  expect_identical(names(mx.exec.arg.arrays(ex)), names(args))
  expect_length(mx.exec.aux.arrays(ex), 0L)
  expect_null(ex$nothing)
  # fixed.param: no gradient for those
  ex2 <- mx.simple.bind(fc, mx.cpu(), grad.req = "write", fixed.param = "fc_bias",
                        data = c(4, 3))
  expect_null(ex2$grad.arrays$fc_bias)
  expect_false(is.null(ex2$grad.arrays$fc_weight))
  ex3 <- mx.simple.bind(fc, mx.cpu(), data = c(4, 3))
  expect_true(all(vapply(ex3$grad.arrays, is.null, logical(1))))
})

test_that("forward and backward of FullyConnected match R matrix algebra", {
  set.seed(4)
  x <- matrix(rnorm(12), 4, 3)   # 3 samples, 4 features
  w <- matrix(rnorm(8), 4, 2)    # the NDArray (2, 4)
  b <- c(0.25, -0.5)
  g <- matrix(rnorm(6), 2, 3)    # gradient of the output
  data <- mx.symbol.Variable("data")
  fc <- mx.symbol.FullyConnected(data, num_hidden = 2, name = "fc")
  ex <- mx.simple.bind(fc, mx.cpu(), grad.req = "write", data = c(4, 3),
                       type.dict = list(data = "float64", fc_weight = "float64",
                                        fc_bias = "float64"))
  mx.exec.update.arg.arrays(ex, list(data = x, fc_weight = w, fc_bias = b), match.name = TRUE)
  mx.exec.forward(ex, is.train = TRUE)
  expect_equal(as.array(ex$outputs[[1]]), t(w) %*% x + b, tolerance = 1e-12)
  mx.exec.backward(ex, mx.nd.array(g, dtype = "float64"))
  gr <- ex$grad.arrays
  expect_equal(as.array(gr$fc_weight), x %*% t(g), tolerance = 1e-12)
  expect_equal(as.vector(as.array(gr$fc_bias)), rowSums(g), tolerance = 1e-12)
  expect_equal(as.array(gr$data), w %*% g, tolerance = 1e-12)
  # grad.req add accumulates over two backward passes
  exa <- mx.simple.bind(fc, mx.cpu(), grad.req = "add", data = c(4, 3),
                        type.dict = list(data = "float64", fc_weight = "float64",
                                         fc_bias = "float64"))
  mx.exec.update.arg.arrays(exa, list(x, w, b))
  for (i in 1:2) {
    mx.exec.forward(exa)
    mx.exec.backward(exa, list(mx.nd.array(g, dtype = "float64")))
  }
  expect_equal(as.array(exa$grad.arrays$fc_weight), 2 * x %*% t(g), tolerance = 1e-12)
  # updating with MXNDArrays, and skipping NULL entries
  mx.exec.update.arg.arrays(ex, list(data = mx.nd.array(x * 2, dtype = "float64"),
                                     fc_bias = NULL), skip.null = TRUE)
  mx.exec.forward(ex, is.train = FALSE)
  expect_equal(as.array(ex$outputs[[1]]), t(w) %*% (2 * x) + b, tolerance = 1e-12)
})

test_that("mx.symbol.bind runs user arrays; training mode reaches Dropout", {
  x <- mx.symbol.Variable("x")
  y <- mx.symbol.Dropout(mx.symbol.square(x), p = 0.5)
  xv <- mx.nd.array(c(1, 2, 3, 4))
  ex <- mx.symbol.bind(y, mx.cpu(), list(x = xv), grad.reqs = "write")
  mx.exec.forward(ex, is.train = FALSE)
  expect_equal(as.vector(as.array(ex$outputs[[1]])), c(1, 4, 9, 16))
  mx.set.seed(1)
  mx.exec.forward(ex, is.train = TRUE)
  o <- as.vector(as.array(ex$outputs[[1]]))
  expect_true(all(o == 0 | abs(o - 2 * c(1, 4, 9, 16)) < 1e-5))
  mx.exec.backward(ex, mx.nd.ones(4))
  gx <- as.vector(as.array(ex$grad.arrays$x))
  expect_equal(gx, ifelse(o == 0, 0, 2 * 2 * c(1, 2, 3, 4)), tolerance = 1e-5)
})

test_that("an MXNet 1.9.1 CNN predicts its stored output through an executor", {
  fx <- mx_fixture_dir()
  sym <- mx.symbol.load(file.path(fx, "cnn-symbol.json"))
  params <- mx.nd.load(file.path(fx, "cnn-0000.params"))
  inp <- read_npy(file.path(fx, "cnn_input.npy"))
  ref <- read_npy(file.path(fx, "cnn_output.npy"))
  ex <- mx.simple.bind(sym, mx.cpu(), grad.req = "null", data = dim(inp))
  nm <- names(params)
  arg <- params[startsWith(nm, "arg:")]
  names(arg) <- sub("^arg:", "", names(arg))
  aux <- params[startsWith(nm, "aux:")]
  names(aux) <- sub("^aux:", "", names(aux))
  arg <- arg[names(arg) %in% names(ex$arg.arrays)]
  mx.exec.update.arg.arrays(ex, c(list(data = inp), arg), match.name = TRUE)
  if (length(aux)) mx.exec.update.aux.arrays(ex, aux, match.name = TRUE)
  mx.exec.forward(ex, is.train = FALSE)
  out <- as.array(ex$outputs[[1]])
  expect_equal(dim(out), dim(ref))
  expect_lt(max(abs(out - ref)), 1e-5)
  # reshape to another batch size keeps the weights
  n <- dim(inp)[length(dim(inp))]
  if (n > 1) {
    one <- inp[, , , 1, drop = FALSE]
    ex1 <- mx.exec.reshape(ex, data = dim(one))
    mx.exec.update.arg.arrays(ex1, list(data = one), match.name = TRUE)
    mx.exec.forward(ex1, is.train = FALSE)
    expect_lt(max(abs(as.array(ex1$outputs[[1]]) - ref[, 1, drop = FALSE])), 1e-5)
  }
})

test_that("bad executor input gives R errors", {
  data <- mx.symbol.Variable("data")
  fc <- mx.symbol.FullyConnected(data, num_hidden = 2, name = "fc")
  expect_error(mx.simple.bind(fc, mx.cpu(), datum = c(4, 3)), "no input named 'datum'")
  expect_error(mx.simple.bind(fc, mx.cpu(), grad.req = "sometimes", data = c(4, 3)), "grad.req")
  expect_error(mx.simple.bind(fc, "cpu", data = c(4, 3)), "context")
  expect_error(mx.simple.bind(fc, mx.cpu()), "data")
  ex <- mx.simple.bind(fc, mx.cpu(), data = c(4, 3))
  expect_error(mx.exec.update.arg.arrays(ex, list(data = matrix(0, 3, 4))), "do not match")
  expect_error(mx.exec.update.arg.arrays(ex, list(data = mx.nd.zeros(c(3, 4)))),
               "do not match")
  expect_error(mx.exec.update.arg.arrays(ex, list(nope = 1)), "no array named 'nope'")
  expect_error(mx.exec.update.arg.arrays(ex, list(data = letters[1:12])), "numeric")
  expect_error(mx.exec.update.arg.arrays(ex, list(1, 2)), "2 arrays for 3")
  expect_error(mx.exec.forward(fc), "must be an MXExecutor")
  expect_error(mx.exec.backward(ex, "x"), "MXNDArray")
  expect_error(mx.exec.backward(ex, list(mx.nd.zeros(c(5, 5)))))
  expect_error(mx.symbol.bind(fc, mx.cpu(), list(data = mx.nd.zeros(c(4, 3)))),
               "no array for 'fc_weight'")
})
