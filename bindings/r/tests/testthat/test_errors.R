# Bad input gives an R error with a clear message; R never crashes.

test_that("non-numeric or malformed data is rejected", {
  expect_error(mx.nd.array("a"), "numeric, integer or logical")
  expect_error(mx.nd.array(list(1, 2)), "not list")
  expect_error(mx.nd.array(factor(c("a", "b"))), "factor")
  expect_error(mx.nd.array(1:3, dtype = "float128"), "unknown dtype")
  expect_error(mx.nd.array(1:3, ctx = "cpu"), "context")
  expect_error(mx.nd.array(c(1, 2), dtype = "float64", copy = NA), "copy")
  expect_error(mx.nd.zeros("a"), "shape")
  expect_error(mx.nd.zeros(c(2, NA)), "shape")
  expect_error(mx.nd.empty(c(2, -3)), "shape|negative|dimension")
  expect_error(mx.nd.empty(c(2.5, 3)), "whole number")
  expect_error(mx.gpu(-1), "dev.id")
})

test_that("wrong dims and shapes give libmx's message", {
  a <- mx.nd.array(array(1, c(2, 3, 4)))
  expect_error(a + mx.nd.array(1:5), "broadcast")
  expect_error(a[5], "out of range")
  expect_error(a[0], "out of range")
  expect_error(a[1, 2], "one index")
  expect_error(a[1, , 2], "last R dimension")
  expect_error(a + "x", "cannot combine")
  expect_error(.Call(mx:::C_mxr_nd_reshape, a, c(5, 5)), ".")
  expect_error(.Call(mx:::C_mxr_nd_slice, a, 3, 9), ".")
  expect_error(as.matrix(a), "2 dimensions")
})

test_that("unknown ops and bad parameters are errors", {
  a <- mx.nd.array(1:3)
  expect_error(mx:::.mx.invoke("no_such_op", list(a)), "no_such_op")
  expect_error(mx:::.mx.invoke("_plus_scalar", list(a), list(scalr = 1)), "scalr")
  expect_error(mx:::.mx.invoke("_plus_scalar", list(a), list(scalar = "abc")), "scalar")
  expect_error(mx:::.mx.invoke("broadcast_add", list(a)), ".")
  expect_error(mx:::.mx.invoke("_plus_scalar", list(a, a, a), list(scalar = 1)), ".")
  expect_error(.Call(mx:::C_mxr_op_info, "no_such_op"), "no_such_op")
  expect_false(.Call(mx:::C_mxr_op_exists, "no_such_op"))
})

test_that("missing and corrupt files are errors", {
  expect_error(mx.nd.load(file.path(tempdir(), "does-not-exist.nd")), "does-not-exist")
  f <- tempfile(fileext = ".nd")
  on.exit(unlink(f))
  writeBin(as.raw(c(1:200)), f)
  expect_error(mx.nd.load(f), ".")
  good <- mx.nd.serialize(list(a = mx.nd.ones(c(4, 4))))
  writeBin(good[seq_len(length(good) - 20)], f)
  expect_error(mx.nd.load(f), ".")
  expect_error(mx.nd.unserialize(good[1:10]), ".")
  expect_error(mx.nd.unserialize("abc"), "raw")
  expect_error(mx.nd.save(list(mx.nd.ones(2)), file.path(tempdir(), "no", "such", "dir.nd")), ".")
  expect_error(mx.nd.save(list(1, 2), f), "MXNDArray")
  expect_error(mx.nd.load(c("a", "b")), "single string")
})

test_that("freed, NULL and foreign handles are errors, not crashes", {
  a <- mx.nd.array(1:3)
  .Call(mx:::C_mxr_handle_free, a)
  expect_false(.Call(mx:::C_mxr_handle_valid, a))
  expect_error(as.array(a), "freed")
  expect_error(dim(a), "freed")
  expect_error(a + 1, "freed")
  expect_output(print(a), "freed")
  expect_error(.Call(mx:::C_mxr_nd_shape, 1:3), "MXNDArray")
  expect_error(.Call(mx:::C_mxr_nd_shape, NULL), "MXNDArray")
  s <- .Call(mx:::C_mxr_sym_variable, "x")
  expect_error(.Call(mx:::C_mxr_nd_shape, s), "MXNDArray, not an MXSymbol")
  expect_error(.Call(mx:::C_mxr_sym_to_json, a), "MXSymbol")
  # an external pointer made elsewhere
  expect_error(.Call(mx:::C_mxr_nd_shape, new.env()), "MXNDArray")
  # a copy of the object (same handle) is freed too
  b <- mx.nd.array(1:3)
  b2 <- b
  .Call(mx:::C_mxr_handle_free, b)
  expect_error(as.array(b2), "freed")
})

test_that("asynchronous errors surface at the next read", {
  a <- mx.nd.array(c(1, 2, 3))
  idx <- mx.nd.array(c(0, 7), dtype = "int64")
  out <- tryCatch(as.array(mx:::.mx.invoke1("take", list(a, idx), list(axis = 0L, mode = "raise"))),
                  error = function(e) e)
  expect_true(inherits(out, "error") || is.numeric(out))
  expect_silent(mx.nd.waitall())
})
