# Generated ops (mx.nd.<Op>) against base R arithmetic and simple formulas written in R.

rel_equal <- function(a, b, tol = 1e-5) expect_equal(a, b, tolerance = tol)

test_that("ops are generated from the registry with argument names from libmx", {
  ops <- mx.op.list()
  public <- ops[!startsWith(ops, "_")]
  for (op in c("Convolution", "FullyConnected", "exp", "softmax", "Concat", "dot")) {
    expect_true(op %in% public)
    expect_true(is.function(get(paste0("mx.nd.", op))))
    expect_true(is.function(get(paste0("mx.symbol.", op))))
  }
  info <- mx.op.info("Convolution")
  f <- names(formals(mx.nd.Convolution))
  expect_equal(f[seq_along(info$input.names)], info$input.names)
  expect_true(all(info$param.names %in% f))
  expect_equal(tail(f, 2), c("...", "out"))
  fs <- names(formals(mx.symbol.Convolution))
  expect_equal(tail(fs, 3), c("...", "name", "attr"))
  # variadic ops take their inputs through ... (num_args is filled in)
  expect_equal(names(formals(mx.nd.Concat))[1], "...")
  expect_false("num_args" %in% names(formals(mx.nd.Concat)))
  doc <- mx.op.doc("FullyConnected")
  expect_s3_class(doc, "MXOpDoc")
  expect_match(doc, "num_hidden")
  expect_match(doc, mx.op.info("FullyConnected")$doc, fixed = TRUE)
  expect_identical(mx.op.doc(mx.nd.FullyConnected), doc)
  expect_identical(mx.op.doc(mx.symbol.FullyConnected), doc)
  expect_output(print(doc), "FullyConnected")
  # hand-written functions of the same name are kept
  expect_identical(mx.nd.zeros, mx:::mx.nd.zeros)
  expect_equal(as.array(mx.nd.zeros(c(2, 2))), array(0, c(2, 2)))
})

test_that("every generated function has a help alias (tools/gen_ops_rd.R)", {
  ns <- asNamespace("mx")
  gen <- Filter(function(n) {
    b <- body(get(n, envir = ns))
    is.call(b) && as.character(b[[1L]])[1L] %in% c(".mx.nd.op.call", ".mx.sym.op.call")
  }, ls(ns, pattern = "^mx\\.(nd|symbol)\\."))
  expect_gt(length(gen), 200)
  idx <- system.file("help", "AnIndex", package = "mx")
  expect_true(nzchar(idx))
  aliases <- sub("\t.*", "", readLines(idx))
  missing <- setdiff(gen, aliases)
  expect(length(missing) == 0L,
         paste0("no help alias for ", paste(head(missing, 5), collapse = ", "),
                ": rerun bindings/r/tools/gen_ops_rd.R"))
  expect_true(all(gen %in% getNamespaceExports("mx")))
})

test_that("elementwise ops match base R", {
  set.seed(7)
  x <- matrix(runif(12, 0.1, 3), 3, 4)
  a <- mx.nd.array(x, dtype = "float64")
  rel_equal(as.array(mx.nd.exp(a)), exp(x), 1e-12)
  rel_equal(as.array(mx.nd.log(a)), log(x), 1e-12)
  rel_equal(as.array(mx.nd.sqrt(a)), sqrt(x), 1e-12)
  rel_equal(as.array(mx.nd.sin(a)), sin(x), 1e-12)
  rel_equal(as.array(mx.nd.tanh(a)), tanh(x), 1e-12)
  rel_equal(as.array(mx.nd.square(a)), x^2, 1e-12)
  rel_equal(as.array(mx.nd.sigmoid(a)), 1 / (1 + exp(-x)), 1e-12)
  rel_equal(as.array(mx.nd.relu(a - 1.5)), pmax(x - 1.5, 0), 1e-12)
  rel_equal(as.array(mx.nd.clip(a, a_min = 0.5, a_max = 2)), pmin(pmax(x, 0.5), 2), 1e-12)
  f32 <- mx.nd.array(x)
  rel_equal(as.array(mx.nd.exp(f32)), exp(x), 1e-6)
  y <- matrix(runif(12, -1, 1), 3, 4)
  b <- mx.nd.array(y, dtype = "float64")
  rel_equal(as.array(mx.nd.broadcast_add(a, b)), x + y, 1e-12)
  rel_equal(as.array(mx.nd.broadcast_mul(a, b)), x * y, 1e-12)
  rel_equal(as.array(mx.nd.broadcast_maximum(a, b)), pmax(x, y), 1e-12)
  # broadcasting a row: R dims c(3, 1) broadcast over the second R dim
  r <- mx.nd.array(array(c(1, 2, 3), c(3, 1)), dtype = "float64")
  rel_equal(as.array(mx.nd.broadcast_add(a, r)), x + c(1, 2, 3), 1e-12)
})

test_that("dot is %*% in reversed order; reductions follow NDArray axes", {
  set.seed(3)
  m1 <- matrix(rnorm(6), 2, 3)
  m2 <- matrix(rnorm(12), 3, 4)
  a <- mx.nd.array(m1, dtype = "float64")
  b <- mx.nd.array(m2, dtype = "float64")
  # R c(2,3) is the NDArray (3,2): dot(b, a) is (4,3)x(3,2) = (4,2), R dims c(2,4) = m1 %*% m2
  rel_equal(as.array(mx.nd.dot(b, a)), m1 %*% m2, 1e-12)
  rel_equal(as.array(mx.nd.dot(a, b, transpose_a = TRUE, transpose_b = TRUE)), t(m1 %*% m2),
            1e-12)
  x <- array(rnorm(24), c(2, 3, 4))
  n <- mx.nd.array(x, dtype = "float64")
  rel_equal(as.vector(as.array(mx.nd.sum(n))), sum(x), 1e-12)
  rel_equal(as.vector(as.array(mx.nd.mean(n))), mean(x), 1e-12)
  # NDArray axis 0 is the last R dim
  rel_equal(as.array(mx.nd.sum(n, axis = 0)), apply(x, c(1, 2), sum), 1e-12)
  rel_equal(as.array(mx.nd.mean(n, axis = 2)), apply(x, c(2, 3), mean), 1e-12)
  rel_equal(as.vector(as.array(mx.nd.max(n, axis = c(1, 2)))), apply(x, 3, max), 1e-12)
  rel_equal(as.array(mx.nd.sum(n, axis = 0, keepdims = TRUE)),
            array(apply(x, c(1, 2), sum), c(2, 3, 1)), 1e-12)
})

test_that("softmax and log_softmax match the formula", {
  set.seed(11)
  x <- matrix(rnorm(15, sd = 3), 5, 3)  # 3 rows of 5 classes in NDArray terms
  a <- mx.nd.array(x, dtype = "float64")
  sm <- apply(x, 2, function(v) exp(v - max(v)) / sum(exp(v - max(v))))
  rel_equal(as.array(mx.nd.softmax(a)), sm, 1e-12)
  rel_equal(as.array(mx.nd.log_softmax(a)), log(sm), 1e-12)
  # along the other axis
  sm0 <- t(apply(x, 1, function(v) exp(v) / sum(exp(v))))
  rel_equal(as.array(mx.nd.softmax(a, axis = 0)), sm0, 1e-12)
})

test_that("Convolution matches a loop written in R", {
  set.seed(5)
  W <- 5; H <- 4; C <- 2; N <- 2; F <- 3; k <- 3
  x <- array(rnorm(W * H * C * N), c(W, H, C, N))
  w <- array(rnorm(k * k * C * F), c(k, k, C, F))
  b <- rnorm(F)
  ref <- array(0, c(W - k + 1, H - k + 1, F, N))
  for (n in 1:N) for (f in 1:F) for (ox in 1:(W - k + 1)) for (oy in 1:(H - k + 1)) {
    ref[ox, oy, f, n] <- sum(x[ox:(ox + k - 1), oy:(oy + k - 1), , n] * w[, , , f]) + b[f]
  }
  out <- mx.nd.Convolution(mx.nd.array(x, dtype = "float64"), mx.nd.array(w, dtype = "float64"),
                           mx.nd.array(b, dtype = "float64"), kernel = c(k, k), num_filter = F)
  expect_equal(dim(out), dim(ref))
  rel_equal(as.array(out), ref, 1e-10)
  # padding and stride, no bias, in float32
  out2 <- mx.nd.Convolution(data = mx.nd.array(x), weight = mx.nd.array(w), kernel = c(k, k),
                            num_filter = F, no_bias = TRUE, pad = c(1, 1), stride = c(2, 2))
  xp <- array(0, c(W + 2, H + 2, C, N))
  xp[2:(W + 1), 2:(H + 1), , ] <- x
  ox <- seq(1, W, by = 2); oy <- seq(1, H, by = 2)
  ref2 <- array(0, c(length(ox), length(oy), F, N))
  for (n in 1:N) for (f in 1:F) for (i in seq_along(ox)) for (j in seq_along(oy)) {
    ref2[i, j, f, n] <- sum(xp[ox[i]:(ox[i] + 2), oy[j]:(oy[j] + 2), , n] * w[, , , f])
  }
  rel_equal(as.array(out2), ref2, 1e-5)
})

test_that("FullyConnected and Pooling match R formulas", {
  set.seed(9)
  x <- matrix(rnorm(12), 4, 3)    # 3 samples of 4 features
  w <- matrix(rnorm(8), 4, 2)     # NDArray (2, 4)
  b <- c(0.5, -1)
  out <- mx.nd.FullyConnected(mx.nd.array(x, dtype = "float64"), mx.nd.array(w, dtype = "float64"),
                              mx.nd.array(b, dtype = "float64"), num_hidden = 2)
  rel_equal(as.array(out), t(w) %*% x + b, 1e-12)
  img <- array(rnorm(4 * 4 * 1 * 1), c(4, 4, 1, 1))
  p <- mx.nd.Pooling(mx.nd.array(img, dtype = "float64"), kernel = c(2, 2), stride = c(2, 2),
                     pool_type = "max")
  ref <- array(0, c(2, 2, 1, 1))
  for (i in 1:2) for (j in 1:2) ref[i, j, 1, 1] <- max(img[(2 * i - 1):(2 * i), (2 * j - 1):(2 * j), 1, 1])
  rel_equal(as.array(p), ref, 1e-12)
})

test_that("variadic, multi-output and in-place ops", {
  a <- mx.nd.array(matrix(1:6, 2, 3))
  b <- mx.nd.array(matrix(7:12, 2, 3))
  # Concat along NDArray axis 0 (the last R dim)
  expect_equal(as.array(mx.nd.Concat(a, b, dim = 0)), cbind(matrix(1:6, 2, 3), matrix(7:12, 2, 3)))
  expect_equal(as.array(mx.nd.Concat(list(a, b), dim = 1)),
               rbind(matrix(1:6, 2, 3), matrix(7:12, 2, 3)))
  expect_equal(as.array(mx.nd.add_n(a, b, a)), matrix(1:6, 2, 3) * 2 + matrix(7:12, 2, 3))
  parts <- mx.nd.SliceChannel(a, num_outputs = 3, axis = 0)
  expect_true(is.list(parts))
  expect_length(parts, 3)
  expect_equal(as.array(parts[[2]]), array(c(3, 4), c(2, 1)))
  out <- mx.nd.zeros(c(2, 3))
  res <- mx.nd.exp(a, out = out)
  expect_identical(res, out)
  expect_equal(as.array(out), exp(matrix(1:6, 2, 3)), tolerance = 1e-6)
})

test_that("bad op calls give clear R errors", {
  a <- mx.nd.array(1:3)
  expect_error(mx.nd.exp(1:3), "input 'data' must be an MXNDArray")
  expect_error(mx.nd.exp("a"), "must be an MXNDArray")
  expect_error(mx.nd.FullyConnected(a, a), "num_hidden")
  expect_error(mx.nd.Activation(a, act_type = "nope"), "act_type")
  expect_error(mx.nd.broadcast_add(a, mx.nd.array(1:4)), "broadcast|shape")
  expect_error(mx.nd.exp(a, a), "too many unnamed")
  expect_error(mx.nd.dot(rhs = a), "missing")
  expect_error(mx.op.doc("NoSuchOp"), "NoSuchOp")
  expect_error(mx.op.doc(sum), "generated")
  expect_error(mx.nd.Concat(a, 3, dim = 0), "input 2 must be an MXNDArray")
  expect_error(mx.nd.exp(a, foo = mx.symbol.Variable("q")), "foo|parameter")
})
