# NDArray: n-dimensional arrays held by libmx. An MXNDArray is an external pointer to an
# mx_ndarray handle (class "MXNDArray"), freed by its finalizer.
# Dimension convention (MXNet-R): R dim c(W, H, C, N) is the NDArray shape (N, C, H, W), so an R
# double array and a float64 NDArray are the same bytes.

is.MXNDArray <- function(x) inherits(x, "MXNDArray")

mx.nd.array <- function(src.array, ctx = NULL, dtype = "float32", copy = FALSE) {
  ids <- .mx.ctx.ids(ctx)
  if (is.MXNDArray(src.array)) {
    return(.Call(C_mxr_nd_copy, src.array, dtype, ids[1L], ids[2L]))
  }
  if (!is.logical(copy) || length(copy) != 1L || is.na(copy)) {
    stop("copy must be TRUE or FALSE", call. = FALSE)
  }
  if (is.data.frame(src.array)) src.array <- as.matrix(src.array)
  .Call(C_mxr_nd_from_r, src.array, dtype, ids[1L], ids[2L], if (copy) 0L else 1L)
}

mx.nd.empty <- function(shape, ctx = NULL, dtype = "float32") {
  ids <- .mx.ctx.ids(ctx)
  .Call(C_mxr_nd_create, shape, dtype, ids[1L], ids[2L])
}

.mx.nd.fill <- function(op, shape, ctx, dtype) {
  if (is.null(ctx)) ctx <- mx.ctx.default()
  .mx.ctx.ids(ctx)
  if (!is.numeric(shape) || length(shape) == 0L || anyNA(shape)) {
    stop("shape must be a numeric vector of dimensions", call. = FALSE)
  }
  if (is.numeric(dtype)) dtype <- .Call(C_mxr_nd_dtype, mx.nd.empty(0, mx.cpu(), dtype))
  .mx.invoke1(op, list(), list(shape = rev(shape), ctx = ctx, dtype = dtype))
}

mx.nd.zeros <- function(shape, ctx = NULL, dtype = "float32") {
  .mx.nd.fill("_zeros", shape, ctx, dtype)
}

mx.nd.ones <- function(shape, ctx = NULL, dtype = "float32") {
  .mx.nd.fill("_ones", shape, ctx, dtype)
}

mx.nd.copyto <- function(src, ctx) {
  .mx.check.ndarray(src, "src")
  ids <- .mx.ctx.ids(ctx)
  .Call(C_mxr_nd_copy, src, NULL, ids[1L], ids[2L])
}

mx.nd.save <- function(ndarray, filename) {
  if (is.MXNDArray(ndarray)) ndarray <- list(ndarray)
  if (!is.list(ndarray)) stop("ndarray must be an MXNDArray or a list of them", call. = FALSE)
  if (!is.character(filename) || length(filename) != 1L) {
    stop("filename must be a single string", call. = FALSE)
  }
  nm <- names(ndarray)
  if (!is.null(nm) && all(!nzchar(nm))) nm <- NULL
  if (!is.null(nm) && any(is.na(nm) | !nzchar(nm))) {
    stop("name every array or none", call. = FALSE)
  }
  invisible(.Call(C_mxr_nd_save, path.expand(filename), unname(ndarray), nm))
}

mx.nd.load <- function(filename) {
  if (!is.character(filename) || length(filename) != 1L) {
    stop("filename must be a single string", call. = FALSE)
  }
  .Call(C_mxr_nd_load, path.expand(filename))
}

mx.nd.serialize <- function(ndarray) {
  if (is.MXNDArray(ndarray)) ndarray <- list(ndarray)
  nm <- names(ndarray)
  if (!is.null(nm) && all(!nzchar(nm))) nm <- NULL
  .Call(C_mxr_nd_save_raw, unname(ndarray), nm)
}

mx.nd.unserialize <- function(raw) .Call(C_mxr_nd_load_raw, raw)

mx.nd.data.ptr <- function(x) .Call(C_mxr_nd_data_ptr, x)

mx.nd.dtype <- function(x) .Call(C_mxr_nd_dtype, x)

mx.nd.context <- function(x) .mx.ctx.from.ids(.Call(C_mxr_nd_device, x))

mx.nd.waitall <- function() invisible(.Call(C_mxr_wait_all))

mx.nd.handle.address <- function(x) .Call(C_mxr_nd_address, x)

mx.nd.from.handle.address <- function(address) .Call(C_mxr_nd_from_address, address)

dim.MXNDArray <- function(x) .Call(C_mxr_nd_shape, x)

length.MXNDArray <- function(x) {
  d <- .Call(C_mxr_nd_shape, x)
  if (length(d) == 0L) return(1L)
  n <- prod(as.numeric(d))
  if (n <= .Machine$integer.max) as.integer(n) else n
}

as.array.MXNDArray <- function(x, ...) .Call(C_mxr_nd_to_r, x, "double")

as.matrix.MXNDArray <- function(x, ...) {
  if (length(dim(x)) != 2L) stop("as.matrix: the MXNDArray must have 2 dimensions", call. = FALSE)
  .Call(C_mxr_nd_to_r, x, "double")
}

as.vector.MXNDArray <- function(x, mode = "any") as.vector(as.array(x), mode)

as.double.MXNDArray <- function(x, ...) as.vector(as.array(x), "double")

as.integer.MXNDArray <- function(x, ...) as.vector(.Call(C_mxr_nd_to_r, x, "integer"))

format.MXNDArray <- function(x, ...) {
  d <- dim(x)
  sprintf("<MXNDArray %s %s %s>", .Call(C_mxr_nd_dtype, x),
          if (length(d)) paste(d, collapse = "x") else "scalar", format(mx.nd.context(x)))
}

print.MXNDArray <- function(x, ...) {
  if (!.Call(C_mxr_handle_valid, x)) {
    cat("<MXNDArray: freed>\n")
    return(invisible(x))
  }
  cat(format(x), "\n", sep = "")
  print(as.array(x), ...)
  invisible(x)
}

# ---- indexing: along the last R dimension (NDArray axis 0)

`[.MXNDArray` <- function(x, ...) {
  nidx <- nargs() - 1L
  if (nidx == 0L) return(x)
  args <- as.list(sys.call())[-c(1L, 2L)]
  if (!is.null(names(args))) args <- args[names(args) != "drop"]
  nidx <- length(args)
  d <- dim(x)
  if (nidx != 1L && nidx != length(d)) {
    stop("index an MXNDArray with one index (x[i]) or one per dimension (x[, , i])",
         call. = FALSE)
  }
  empty <- vapply(args, function(a) identical(a, quote(expr = )), logical(1))
  if (nidx > 1L && !all(empty[-nidx])) {
    stop("only the last R dimension of an MXNDArray can be indexed: x[, , i]", call. = FALSE)
  }
  if (empty[nidx]) return(x)
  i <- eval(args[[nidx]], parent.frame())
  n <- if (length(d)) d[length(d)] else 1L
  if (is.logical(i)) {
    if (anyNA(i)) stop("NA in the index", call. = FALSE)
    i <- which(rep_len(i, n))
  }
  if (!is.numeric(i) || anyNA(i)) stop("the index must be numeric or logical", call. = FALSE)
  if (any(i != round(i))) stop("the index must hold whole numbers", call. = FALSE)
  if (length(i) && all(i < 0)) i <- setdiff(seq_len(n), -i)
  if (any(i < 1 | i > n)) {
    stop(sprintf("index out of range: the last dimension has %d element(s)", n), call. = FALSE)
  }
  if (length(i) == 0L) stop("empty index", call. = FALSE)
  if (length(i) == 1L || all(diff(i) == 1)) {
    return(.Call(C_mxr_nd_slice, x, i[1L] - 1, i[length(i)]))
  }
  idx <- mx.nd.array(as.numeric(i - 1), mx.nd.context(x), dtype = "int64", copy = TRUE)
  .mx.invoke1("take", list(x, idx), list(axis = 0L, mode = "raise"))
}

# ---- arithmetic and comparison (Ops group generic) through libmx ops

.mx.ops.binary <- c(
  "+" = "broadcast_add", "-" = "broadcast_sub", "*" = "broadcast_mul", "/" = "broadcast_div",
  "^" = "broadcast_power", "%%" = "broadcast_mod", "==" = "broadcast_equal",
  "!=" = "broadcast_not_equal", ">" = "broadcast_greater", "<" = "broadcast_lesser",
  ">=" = "broadcast_greater_equal", "<=" = "broadcast_lesser_equal",
  "&" = "broadcast_logical_and", "|" = "broadcast_logical_or")

# array OP scalar
.mx.ops.scalar <- c(
  "+" = "_plus_scalar", "-" = "_minus_scalar", "*" = "_mul_scalar", "/" = "_div_scalar",
  "^" = "_power_scalar", "%%" = "_mod_scalar", "==" = "_equal_scalar",
  "!=" = "_not_equal_scalar", ">" = "_greater_scalar", "<" = "_lesser_scalar",
  ">=" = "_greater_equal_scalar", "<=" = "_lesser_equal_scalar")

# scalar OP array
.mx.ops.rscalar <- c(
  "+" = "_plus_scalar", "-" = "_rminus_scalar", "*" = "_mul_scalar", "/" = "_rdiv_scalar",
  "^" = "_rpower_scalar", "%%" = "_rmod_scalar", "==" = "_equal_scalar",
  "!=" = "_not_equal_scalar", ">" = "_lesser_scalar", "<" = "_greater_scalar",
  ">=" = "_lesser_equal_scalar", "<=" = "_greater_equal_scalar")

Ops.MXNDArray <- function(e1, e2) {
  gen <- .Generic
  if (missing(e2)) {
    .mx.check.ndarray(e1, "operand")
    return(switch(gen,
                  "+" = e1,
                  "-" = .mx.invoke1("negative", list(e1)),
                  "!" = .mx.invoke1("_equal_scalar", list(e1), list(scalar = 0)),
                  stop("unary ", gen, " is not defined for MXNDArray", call. = FALSE)))
  }
  if (gen == "%/%") return(.mx.invoke1("floor", list(Ops.MXNDArray.dispatch("/", e1, e2))))
  Ops.MXNDArray.dispatch(gen, e1, e2)
}

Ops.MXNDArray.dispatch <- function(gen, e1, e2) {
  nd1 <- is.MXNDArray(e1)
  nd2 <- is.MXNDArray(e2)
  if (nd1 && nd2) {
    op <- .mx.ops.binary[gen]
    if (is.na(op)) stop(gen, " is not defined for MXNDArray", call. = FALSE)
    return(.mx.invoke1(op, list(e1, e2)))
  }
  arr <- if (nd1) e1 else e2
  other <- if (nd1) e2 else e1
  .mx.check.ndarray(arr, "operand")
  if (!(is.numeric(other) || is.logical(other))) {
    stop("cannot combine an MXNDArray with ", class(other)[1L], call. = FALSE)
  }
  if (length(other) == 1L && is.null(dim(other))) {
    op <- if (nd1) .mx.ops.scalar[gen] else .mx.ops.rscalar[gen]
    if (!is.na(op)) return(.mx.invoke1(op, list(arr), list(scalar = .mx.num.str(other))))
  }
  other <- mx.nd.array(other, mx.nd.context(arr), dtype = .Call(C_mxr_nd_dtype, arr), copy = TRUE)
  if (nd1) Ops.MXNDArray.dispatch(gen, arr, other) else Ops.MXNDArray.dispatch(gen, other, arr)
}
