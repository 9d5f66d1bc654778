# Arrays: creation, conversion, the dimension convention, zero copy, arithmetic vs base R,
# indexing, files (against the MXNet 1.9.1 fixtures).

test_that("R dims are the reversed NDArray shape and values round-trip", {
  x <- array(as.double(1:24), c(4, 3, 2))
  a <- mx.nd.array(x)
  expect_true(is.MXNDArray(a))
  expect_equal(dim(a), c(4L, 3L, 2L))
  expect_equal(length(a), 24L)
  expect_equal(mx.nd.dtype(a), "float32")
  expect_equal(as.array(a), x)
  v <- mx.nd.array(c(1.5, 2.5, 3.5))
  expect_equal(dim(v), 3L)
  expect_equal(as.vector(as.array(v)), c(1.5, 2.5, 3.5))
  m <- matrix(1:6, 2, 3)
  am <- mx.nd.array(m)
  expect_equal(dim(am), c(2L, 3L))
  expect_equal(as.matrix(am), m + 0)
  expect_equal(as.integer(am), 1:6)
  # the NDArray's first axis is the last R dim: reshape to R c(6) keeps memory order
  expect_equal(as.vector(as.array(mx.nd.array(m)[2])), c(3, 4))
})

test_that("dtypes convert through libmx", {
  x <- c(-2.75, 0, 1.25, 300)
  for (dt in c("float32", "float64", "float16")) {
    expect_equal(as.vector(as.array(mx.nd.array(x, dtype = dt))), x)
  }
  expect_equal(as.vector(as.array(mx.nd.array(c(1, 2, 255), dtype = "uint8"))), c(1, 2, 255))
  expect_equal(as.vector(as.array(mx.nd.array(c(-3L, 7L), dtype = "int64"))), c(-3, 7))
  expect_equal(as.vector(as.array(mx.nd.array(c(TRUE, FALSE, TRUE), dtype = "int32"))), c(1, 0, 1))
  expect_equal(mx.nd.dtype(mx.nd.array(1:3, dtype = "int32")), "int32")
  z <- mx.nd.zeros(c(2, 3))
  expect_equal(as.array(z), array(0, c(2, 3)))
  o <- mx.nd.ones(c(3, 2), dtype = "int32")
  expect_equal(mx.nd.dtype(o), "int32")
  expect_equal(as.array(o), array(1, c(3, 2)))
})

test_that("float64 wraps R memory without a copy; libmx writes are visible in R", {
  x <- as.double(1:12)
  dim(x) <- c(3, 4)
  a <- mx.nd.array(x, dtype = "float64")
  expect_equal(mx.nd.data.ptr(a), r_data_ptr(x))
  # a write through libmx (an in-place op) shows up in the R object
  mx:::.mx.invoke("_mul_scalar", list(a), list(scalar = 10), out = list(a))
  mx.nd.waitall()
  expect_equal(x, matrix(as.double(1:12) * 10, 3, 4))
  # R's copy-on-modify: modifying x in R copies it, the array keeps its values
  x[1, 1] <- -1
  expect_equal(as.array(a)[1, 1], 10)
  expect_false(r_data_ptr(x) == mx.nd.data.ptr(a))
  # views share memory
  s <- a[2]
  expect_equal(mx.nd.data.ptr(s), mx.nd.data.ptr(a) + 3 * 8)
  # integers wrap as int32
  i <- 1:10
  ai <- mx.nd.array(i, dtype = "int32")
  expect_equal(mx.nd.data.ptr(ai), r_data_ptr(i))
  # other dtypes and copy = TRUE copy
  expect_false(mx.nd.data.ptr(mx.nd.array(x, dtype = "float64", copy = TRUE)) == r_data_ptr(x))
  expect_false(mx.nd.data.ptr(mx.nd.array(x)) == r_data_ptr(x))
})

test_that("wrapped R objects are released once libmx lets go", {
  gc()
  mx.nd.waitall()
  invisible(.Call(mx:::C_mxr_drain))
  stats0 <- .Call(mx:::C_mxr_keep_stats)
  local({
    y <- runif(100)
    a <- mx.nd.array(y, dtype = "float64")
    expect_equal(.Call(mx:::C_mxr_keep_stats)[1], stats0[1] + 1)
    b <- a + 1
    expect_equal(as.vector(as.array(b)), y + 1)
  })
  gc()
  mx.nd.waitall()
  gc()
  invisible(.Call(mx:::C_mxr_drain))
  expect_equal(.Call(mx:::C_mxr_keep_stats)[1], stats0[1])
})

test_that("arithmetic and comparison match base R", {
  set.seed(1)
  x <- array(rnorm(24), c(4, 3, 2))
  y <- array(rnorm(24), c(4, 3, 2)) + 3
  a <- mx.nd.array(x, dtype = "float64")
  b <- mx.nd.array(y, dtype = "float64")
  expect_equal(as.array(a + b), x + y)
  expect_equal(as.array(a - b), x - y)
  expect_equal(as.array(a * b), x * y)
  expect_equal(as.array(a / b), x / y)
  expect_equal(as.array(b ^ 2), y ^ 2)
  yp <- y * y + 0.5
  expect_equal(as.array(mx.nd.array(yp, dtype = "float64") ^ a), yp ^ x, tolerance = 1e-12)
  expect_equal(as.array(-a), -x)
  expect_equal(as.array(+a), x)
  expect_equal(as.array(a + 2), x + 2)
  expect_equal(as.array(2 - a), 2 - x)
  expect_equal(as.array(a * 0.5), x * 0.5)
  expect_equal(as.array(1 / b), 1 / y)
  expect_equal(as.array(2 ^ a), 2 ^ x)
  expect_equal(as.array(b %% 1.5), y %% 1.5)
  expect_equal(as.array(a > 0), (x > 0) + 0)
  expect_equal(as.array(a < b), (x < y) + 0)
  expect_equal(as.array(a >= 0.1), (x >= 0.1) + 0)
  expect_equal(as.array(0.1 <= a), (0.1 <= x) + 0)
  expect_equal(as.array(a == a), (x == x) + 0)
  expect_equal(as.array(a != 0), (x != 0) + 0)
  expect_equal(as.array(5 > a), (5 > x) + 0)
  expect_equal(as.array(b %/% 2), y %/% 2)
  # float32 against base R with float32 rounding
  af <- mx.nd.array(x)
  expect_equal(as.array(af * 3 + 1), x * 3 + 1, tolerance = 1e-6)
})

test_that("broadcasting lines up the leading R dims (MXNet-R convention)", {
  m <- matrix(as.double(1:12), 3, 4)
  v <- c(10, 20, 30)
  am <- mx.nd.array(m, dtype = "float64")
  expect_equal(as.array(am + mx.nd.array(v, dtype = "float64")), m + v)
  expect_equal(as.array(am * matrix(c(1, 2, 3), 3, 1)), sweep(m, 1, c(1, 2, 3), "*"))
  row <- mx.nd.array(matrix(c(1, 2, 3, 4), 1, 4), dtype = "float64")
  expect_equal(as.array(am - row), sweep(m, 2, c(1, 2, 3, 4), "-"))
  expect_equal(as.array(am + c(10, 20, 30)), m + v)
})

test_that("indexing selects along the last R dim", {
  x <- array(as.double(1:24), c(2, 3, 4))
  a <- mx.nd.array(x, dtype = "float64")
  expect_equal(as.array(a[2]), x[, , 2, drop = FALSE])
  expect_equal(as.array(a[2:3]), x[, , 2:3, drop = FALSE])
  expect_equal(as.array(a[, , 3]), x[, , 3, drop = FALSE])
  expect_equal(as.array(a[c(4, 1)]), x[, , c(4, 1), drop = FALSE])
  expect_equal(as.array(a[-1]), x[, , -1, drop = FALSE])
  expect_equal(as.array(a[c(TRUE, FALSE, TRUE, FALSE)]), x[, , c(1, 3), drop = FALSE])
  expect_equal(mx.nd.data.ptr(a[3:4]), mx.nd.data.ptr(a) + 12 * 8)
  expect_identical(a[], a)
})

test_that("print and format describe the array", {
  a <- mx.nd.array(matrix(1:4, 2, 2))
  expect_output(print(a), "<MXNDArray float32 2x2 cpu\\(0\\)>")
  expect_equal(format(mx.cpu()), "cpu(0)")
  expect_output(print(mx.gpu(1)), "gpu\\(1\\)")
  expect_equal(mx.nd.context(a), mx.cpu())
})

test_that("contexts", {
  expect_true(is.mx.context(mx.cpu()))
  expect_equal(mx.cpu(0)$device_typeid, 1L)
  expect_equal(mx.gpu(0)$device_typeid, 2L)
  expect_equal(mx.ctx.default(), mx.cpu())
  n <- mx.gpu.count()
  expect_true(is.numeric(n) && n >= 0)
  if (n > 0) {
    g <- mx.nd.array(c(1, 2, 3), ctx = mx.gpu(0))
    expect_equal(mx.nd.context(g), mx.gpu(0))
    expect_equal(as.vector(as.array(g * 2)), c(2, 4, 6))
    expect_equal(as.vector(as.array(mx.nd.copyto(g, mx.cpu()))), c(1, 2, 3))
  } else {
    expect_error(mx.nd.array(c(1, 2, 3), ctx = mx.gpu(0)))
  }
})

test_that("save and load round-trip lists with and without names", {
  f <- tempfile(fileext = ".nd")
  on.exit(unlink(f))
  x <- array(rnorm(6), c(3, 2))
  mx.nd.save(list(w = mx.nd.array(x), b = mx.nd.array(1:3, dtype = "int32")), f)
  l <- mx.nd.load(f)
  expect_equal(names(l), c("w", "b"))
  expect_equal(as.array(l$w), x, tolerance = 1e-6)
  expect_equal(mx.nd.dtype(l$b), "int32")
  mx.nd.save(list(mx.nd.array(x)), f)
  l2 <- mx.nd.load(f)
  expect_null(names(l2))
  expect_equal(length(l2), 1L)
  r <- mx.nd.serialize(list(a = mx.nd.array(x, dtype = "float64")))
  expect_type(r, "raw")
  expect_equal(as.array(mx.nd.unserialize(r)$a), x)
})

test_that("MXNet 1.9.1 arrays_dict.nd and arrays_list.nd match their .npy values", {
  dir <- mx_fixture_dir()
  manifest_names <- c("f32", "f32_special", "f64", "f16", "u8", "i32", "i8", "i64")
  d <- mx.nd.load(file.path(dir, "arrays_dict.nd"))
  expect_equal(names(d), manifest_names)
  l <- mx.nd.load(file.path(dir, "arrays_list.nd"))
  expect_null(names(l))
  expect_equal(length(l), length(manifest_names))
  dtypes <- c("float32", "float32", "float64", "float16", "uint8", "int32", "int8", "int64")
  for (k in seq_along(manifest_names)) {
    nm <- manifest_names[k]
    ref <- read_npy(file.path(dir, "arrays_npy", paste0(nm, ".npy")))
    for (arr in list(d[[nm]], l[[k]])) {
      expect_equal(mx.nd.dtype(arr), dtypes[k])
      expect_equal(dim(arr), dim(ref))
      expect_identical(as.array(arr), ref, label = nm)
    }
  }
  # saving what was loaded writes the bytes MXNet wrote
  f <- tempfile(fileext = ".nd")
  on.exit(unlink(f))
  mx.nd.save(d, f)
  orig <- readBin(file.path(dir, "arrays_dict.nd"), "raw", 1e6)
  expect_identical(readBin(f, "raw", 1e6), orig)
  expect_identical(mx.nd.serialize(d), orig)
})

test_that("arrays can be handed to another binding by handle address", {
  a <- mx.nd.array(c(1, 2, 3), dtype = "float64")
  b <- mx.nd.from.handle.address(mx.nd.handle.address(a))
  expect_equal(mx.nd.data.ptr(b), mx.nd.data.ptr(a))
  expect_equal(as.array(b), as.array(a))
  b2 <- mx.nd.from.handle.address(sprintf("%.0f", mx.nd.handle.address(a)))
  expect_equal(mx.nd.data.ptr(b2), mx.nd.data.ptr(a))
})

test_that("library facts", {
  expect_match(mx.lib.info("version"), "^[0-9]+\\.[0-9]+")
  expect_true(file.exists(mx.lib.path()))
  expect_equal(.Call(mx:::C_mxr_abi_version), 2L)
  expect_null(mx.set.seed(3))
})
