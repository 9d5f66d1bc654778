# Internal helpers shared by every R file of the package (R2/R3 build on these).
#
#   .mx.param.str(v)            an R value as an MXNet parameter string (TRUE -> "True",
#                               c(3, 3) -> "(3,3)", 0.1 -> "0.10000000000000001", "relu" -> "relu")
#   .mx.params(lst)             named list -> list(keys = chr, vals = chr), NULL entries dropped
#   .mx.invoke(op, inputs, params, out)  runs op by name; inputs: list of MXNDArrays; params:
#                               named list of R values; out: NULL or list of output slots.
#                               Returns the list of outputs.
#   .mx.invoke1(...)            same, returns the first output
#   .mx.check.ndarray(x, what)  error unless x is a live MXNDArray
#   .mx.env                     package state (default context, ...)

.mx.env <- new.env(parent = emptyenv())

.mx.num.str <- function(x) {
  out <- sprintf("%.17g", as.double(x))
  out[is.na(x)] <- "nan"
  out[is.infinite(x) & x > 0] <- "inf"
  out[is.infinite(x) & x < 0] <- "-inf"
  out
}

.mx.param.str <- function(v) {
  if (is.null(v)) return(NULL)
  if (inherits(v, "MXContext")) return(paste0(v$device, "(", v$device_id, ")"))
  if (is.character(v)) {
    if (length(v) == 1L) return(v)
    return(paste0("(", paste(v, collapse = ","), ")"))
  }
  if (is.logical(v) && length(v) == 1L) {
    if (is.na(v)) return("None")
    return(if (v) "True" else "False")
  }
  if (is.numeric(v) || is.logical(v)) {
    s <- if (is.integer(v) || is.logical(v) || all(is.finite(v) & v == round(v) & abs(v) < 1e15)) {
      format(as.numeric(v), scientific = FALSE, trim = TRUE)
    } else {
      .mx.num.str(v)
    }
    if (length(v) == 1L && is.null(dim(v))) return(s)
    return(paste0("(", paste(s, collapse = ","), ")"))
  }
  stop("cannot pass a parameter of class ", paste(class(v), collapse = "/"), " to libmx",
       call. = FALSE)
}

.mx.params <- function(lst) {
  if (length(lst) == 0L) return(list(keys = NULL, vals = NULL))
  nm <- names(lst)
  if (is.null(nm) || any(!nzchar(nm))) stop("parameters must be named", call. = FALSE)
  keep <- !vapply(lst, is.null, logical(1))
  lst <- lst[keep]
  if (length(lst) == 0L) return(list(keys = NULL, vals = NULL))
  vals <- vapply(lst, function(v) .mx.param.str(v), character(1))
  list(keys = names(lst), vals = unname(vals))
}

.mx.invoke <- function(op, inputs = list(), params = list(), out = NULL) {
  p <- .mx.params(params)
  if (is.MXNDArray(inputs)) inputs <- list(inputs)
  if (is.MXNDArray(out)) out <- list(out)
  .Call(C_mxr_op_invoke, op, inputs, p$keys, p$vals, out)
}

.mx.invoke1 <- function(op, inputs = list(), params = list(), out = NULL) {
  .mx.invoke(op, inputs, params, out)[[1L]]
}

.mx.check.ndarray <- function(x, what = "x") {
  if (!is.MXNDArray(x)) stop(what, " must be an MXNDArray", call. = FALSE)
  if (!.Call(C_mxr_handle_valid, x)) stop(what, " is a freed MXNDArray", call. = FALSE)
  invisible(x)
}

mx.set.seed <- function(seed) {
  invisible(.Call(C_mxr_random_seed, seed))
}

mx.lib.info <- function(key = c("version", "cuda", "blas", "dnnl", "openmp", "engine",
                                "num_threads")) {
  if (missing(key)) {
    out <- vapply(key, function(k) .Call(C_mxr_lib_info, k), character(1))
    return(out)
  }
  .Call(C_mxr_lib_info, key)
}

mx.lib.path <- function() .Call(C_mxr_lib_path)
