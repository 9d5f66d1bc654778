# Executors: a symbol bound to arrays (libmx plans the memory and runs the graph). An MXExecutor
# is an external pointer to an mx_executor handle (class "MXExecutor"). The arrays it hands out
# (exec$arg.arrays, ...) share the executor's memory: updating them in place (mx.exec.update.*)
# feeds the next forward pass.

is.MXExecutor <- function(x) inherits(x, "MXExecutor")

.mx.check.executor <- function(x, what = "exec") {
  if (!is.MXExecutor(x)) stop(what, " must be an MXExecutor", call. = FALSE)
  if (!.Call(C_mxr_handle_valid, x)) stop(what, " is a freed MXExecutor", call. = FALSE)
  invisible(x)
}

.mx.grad.reqs <- c("null", "write", "add", "inplace")

.mx.check.grad.req <- function(grad.req) {
  if (!is.character(grad.req) || anyNA(grad.req) || !all(grad.req %in% .mx.grad.reqs)) {
    stop("grad.req must be \"null\", \"write\" or \"add\"", call. = FALSE)
  }
  invisible(grad.req)
}

mx.simple.bind <- function(symbol, ctx = NULL, grad.req = "null", fixed.param = NULL, ...,
                           type.dict = NULL) {
  .mx.check.symbol(symbol)
  ids <- .mx.ctx.ids(ctx)
  shapes <- .mx.shape.args(...)
  inputs <- .Call(C_mxr_sym_list, symbol, 3L)
  unknown <- setdiff(names(shapes), inputs)
  if (length(unknown)) {
    stop("mx.simple.bind: the symbol has no input named '", unknown[1L], "'", call. = FALSE)
  }
  .mx.check.grad.req(grad.req)
  args <- .Call(C_mxr_sym_list, symbol, 0L)
  if (length(grad.req) == 1L && is.null(names(grad.req))) {
    reqs <- c("*" = grad.req)
  } else {
    if (is.null(names(grad.req))) {
      if (length(grad.req) != length(args)) {
        stop(sprintf("grad.req: give one value, one per argument (%d) or name them",
                     length(args)), call. = FALSE)
      }
      names(grad.req) <- args
    }
    reqs <- grad.req
  }
  if (length(fixed.param)) {
    if (!is.character(fixed.param)) stop("fixed.param must name arguments", call. = FALSE)
    reqs[fixed.param] <- "null"
  }
  types <- NULL
  if (length(type.dict)) {
    types <- unlist(type.dict)
    if (is.null(names(types))) stop("type.dict must be named by argument", call. = FALSE)
  }
  .Call(C_mxr_exec_simple_bind, symbol, ids[1L], ids[2L], shapes, types, as.list(reqs), 0L)
}

mx.symbol.bind <- function(symbol, ctx = NULL, arg.arrays, aux.arrays = list(),
                           grad.reqs = "null", arg.grads = NULL) {
  .mx.check.symbol(symbol)
  ids <- .mx.ctx.ids(ctx)
  args <- .Call(C_mxr_sym_list, symbol, 0L)
  arg.arrays <- .mx.order.arrays(arg.arrays, args, "arg.arrays")
  aux.arrays <- .mx.order.arrays(aux.arrays, .Call(C_mxr_sym_list, symbol, 2L), "aux.arrays")
  .mx.check.grad.req(grad.reqs)
  if (!is.null(names(grad.reqs))) grad.reqs <- grad.reqs[args]
  if (!is.null(arg.grads)) {
    if (!is.null(names(arg.grads))) arg.grads <- unname(arg.grads[args])
    if (length(arg.grads) != length(args)) {
      stop(sprintf("arg.grads: %d arrays for %d arguments", length(arg.grads), length(args)),
           call. = FALSE)
    }
  } else if (any(grad.reqs != "null")) {
    arg.grads <- lapply(arg.arrays, function(a) .mx.invoke1("zeros_like", list(a)))
  }
  .Call(C_mxr_exec_bind, symbol, ids[1L], ids[2L], arg.arrays, arg.grads, unname(grad.reqs),
        aux.arrays, 0L)
}

# A list of arrays in the order of `names` (taken by name when it is named, else positionally).
.mx.order.arrays <- function(arrays, names, what) {
  if (is.MXNDArray(arrays)) arrays <- list(arrays)
  if (!is.list(arrays)) stop(what, " must be a list of MXNDArrays", call. = FALSE)
  if (!is.null(names(arrays))) {
    missing <- setdiff(names, names(arrays))
    if (length(missing)) stop(what, ": no array for '", missing[1L], "'", call. = FALSE)
    arrays <- arrays[names]
  } else if (length(arrays) != length(names)) {
    stop(sprintf("%s: %d arrays for %d names", what, length(arrays), length(names)), call. = FALSE)
  }
  unname(arrays)
}

mx.exec.forward <- function(exec, is.train = TRUE) {
  .mx.check.executor(exec)
  invisible(.Call(C_mxr_exec_forward, exec, isTRUE(is.train)))
}

mx.exec.backward <- function(exec, out.grads = NULL) {
  .mx.check.executor(exec)
  if (is.MXNDArray(out.grads)) out.grads <- list(out.grads)
  if (!is.null(out.grads) && !is.list(out.grads)) {
    stop("out.grads must be an MXNDArray or a list of them", call. = FALSE)
  }
  invisible(.Call(C_mxr_exec_backward, exec, if (is.null(out.grads)) NULL else unname(out.grads)))
}

.mx.exec.arrays <- function(exec, which) {
  .mx.check.executor(exec)
  .Call(C_mxr_exec_arrays, exec, which)
}

mx.exec.arg.arrays <- function(exec) .mx.exec.arrays(exec, 0L)
mx.exec.grad.arrays <- function(exec) .mx.exec.arrays(exec, 1L)
mx.exec.aux.arrays <- function(exec) .mx.exec.arrays(exec, 2L)
mx.exec.outputs <- function(exec) .mx.exec.arrays(exec, 3L)

`$.MXExecutor` <- function(x, name) {
  switch(name,
         arg.arrays = .mx.exec.arrays(x, 0L),
         grad.arrays = .mx.exec.arrays(x, 1L),
         aux.arrays = .mx.exec.arrays(x, 2L),
         outputs = .mx.exec.arrays(x, 3L),
         ref = x,
         NULL)
}

# Copies new values into the executor's arrays (by name when the list is named).
.mx.exec.update <- function(exec, arrays, which, match.name, skip.null) {
  cur <- .mx.exec.arrays(exec, which)
  if (is.null(arrays)) return(invisible(exec))
  if (is.MXNDArray(arrays)) arrays <- list(arrays)
  if (!is.list(arrays)) stop("the new values must be a list of MXNDArrays or R arrays",
                             call. = FALSE)
  nm <- names(arrays)
  if (match.name || !is.null(nm)) {
    if (is.null(nm) || !all(nzchar(nm))) stop("name every array", call. = FALSE)
    bad <- setdiff(nm, names(cur))
    if (length(bad)) stop("the executor has no array named '", bad[1L], "'", call. = FALSE)
    keys <- nm
  } else {
    if (length(arrays) != length(cur)) {
      stop(sprintf("%d arrays for %d executor arrays", length(arrays), length(cur)), call. = FALSE)
    }
    keys <- names(cur)
  }
  for (i in seq_along(arrays)) {
    src <- arrays[[i]]
    dst <- cur[[keys[i]]]
    if (is.null(src)) {
      if (skip.null) next
      stop("no value for '", keys[i], "' (skip.null = TRUE skips it)", call. = FALSE)
    }
    if (is.null(dst)) stop("the executor has no array for '", keys[i], "'", call. = FALSE)
    if (is.MXNDArray(src)) {
      if (!identical(dim(src), dim(dst))) {
        stop(sprintf("'%s': dims %s do not match the executor's %s", keys[i],
                     paste(dim(src), collapse = "x"), paste(dim(dst), collapse = "x")),
             call. = FALSE)
      }
      .Call(C_mxr_nd_copyto, src, dst)
    } else {
      if (!(is.numeric(src) || is.logical(src))) {
        stop("'", keys[i], "' must be an MXNDArray or a numeric array", call. = FALSE)
      }
      d <- if (is.null(dim(src))) length(src) else dim(src)
      if (length(d) != length(dim(dst)) || any(d != dim(dst))) {
        stop(sprintf("'%s': dims %s do not match the executor's %s", keys[i],
                     paste(d, collapse = "x"), paste(dim(dst), collapse = "x")), call. = FALSE)
      }
      .Call(C_mxr_nd_copy_from_r, dst, src)
    }
  }
  invisible(exec)
}

mx.exec.update.arg.arrays <- function(exec, arg.arrays, match.name = FALSE, skip.null = FALSE) {
  .mx.exec.update(exec, arg.arrays, 0L, match.name, skip.null)
}

mx.exec.update.grad.arrays <- function(exec, grad.arrays, match.name = FALSE, skip.null = FALSE) {
  .mx.exec.update(exec, grad.arrays, 1L, match.name, skip.null)
}

mx.exec.update.aux.arrays <- function(exec, aux.arrays, match.name = FALSE, skip.null = FALSE) {
  .mx.exec.update(exec, aux.arrays, 2L, match.name, skip.null)
}

mx.exec.reshape <- function(exec, ..., partial.shaping = FALSE, allow.up.sizing = FALSE) {
  .mx.check.executor(exec)
  .Call(C_mxr_exec_reshape, exec, .mx.shape.args(...), isTRUE(partial.shaping),
        isTRUE(allow.up.sizing))
}

format.MXExecutor <- function(x, ...) {
  if (!.Call(C_mxr_handle_valid, x)) return("<MXExecutor: freed>")
  sprintf("<MXExecutor: %d argument(s), %d output(s)>", length(.mx.exec.arrays(x, 0L)),
          length(.mx.exec.arrays(x, 3L)))
}

print.MXExecutor <- function(x, ...) {
  cat(format(x), "\n", sep = "")
  invisible(x)
}
