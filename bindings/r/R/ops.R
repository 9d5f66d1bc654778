# Operators generated at load time from the registry of libmx.
#
# For every registered op whose name does not start with "_", two functions are assigned into the
# namespace when the package loads (and exported through NAMESPACE's exportPattern):
#
#   mx.nd.<Op>(<inputs>, <params>, ..., out = NULL)        runs the op now on MXNDArrays
#   mx.symbol.<Op>(<inputs>, <params>, ..., name = NULL, attr = NULL)
#                                                           a new symbol node
#
# The formals are the op's input names, then its parameter names (all defaulting to NULL: "leave it
# to libmx"). Ops with a variable number of inputs (Concat, add_n, stack, ...) take their inputs
# through `...` and get num_args set from the count. Parameters are passed to libmx exactly as
# given (axes, shapes and kernels are in NDArray order, i.e. reversed with respect to R dims).
# Names that already exist in the namespace (mx.nd.zeros, mx.nd.ones, ...) are left alone.
# The docs of an op come from libmx: mx.op.doc("Convolution") or mx.op.doc(mx.nd.Convolution).

.mx.op.public <- function(ops) ops[!startsWith(ops, "_")]

mx.op.list <- function() .Call(C_mxr_op_list)

mx.op.info <- function(op) {
  op <- .mx.op.name(op)
  info <- .Call(C_mxr_op_info, op)
  info$num.outputs <- .Call(C_mxr_op_attr, op, "num_outputs")
  info$aliases <- .Call(C_mxr_op_attr, op, "aliases")
  info
}

# The op name behind a string or a generated function.
.mx.op.name <- function(op) {
  if (is.function(op)) {
    b <- body(op)
    if (is.call(b) && length(b) >= 2L && is.character(b[[2L]]) &&
        as.character(b[[1L]]) %in% c(".mx.nd.op.call", ".mx.sym.op.call")) {
      return(b[[2L]])
    }
    stop("not a generated mx.nd.<Op> / mx.symbol.<Op> function", call. = FALSE)
  }
  if (!is.character(op) || length(op) != 1L || is.na(op)) {
    stop("op must be a single op name", call. = FALSE)
  }
  op
}

mx.op.doc <- function(op) {
  info <- mx.op.info(op)
  lines <- c(paste0(info$name, ": ", info$doc), "")
  if (length(info$input.names)) {
    var <- nzchar(info$key.var.num.args)
    lines <- c(lines, "Inputs:", paste0("  ", info$input.names,
                                        if (var) " (any number, passed through ...)" else ""), "")
  }
  if (length(info$param.names)) {
    lines <- c(lines, "Parameters:",
               paste0("  ", info$param.names, " : ", info$param.types,
                      ifelse(nzchar(info$param.docs), paste0("\n      ", info$param.docs), "")))
  }
  if (!is.null(info$aliases) && nzchar(info$aliases)) {
    lines <- c(lines, "", paste0("Aliases: ", info$aliases))
  }
  structure(paste(lines, collapse = "\n"), class = "MXOpDoc")
}

print.MXOpDoc <- function(x, ...) {
  cat(x, "\n", sep = "")
  invisible(x)
}

# ---- generation

# Formals: inputs (or ... for variadic ops), params, then the fixed trailing arguments.
.mx.op.formals <- function(inputs, params, variadic, trailing) {
  nms <- if (variadic) "..." else inputs
  params <- setdiff(params, c(nms, names(trailing)))
  f <- c(.mx.named(rep(list(NULL), length(nms)), nms),
         .mx.named(rep(list(NULL), length(params)), params))
  if (variadic) {
    f[["..."]] <- quote(expr = )
  } else {
    f <- c(f, alist(... = ))
  }
  c(f, trailing)
}

.mx.op.spec <- function(info) {
  variadic <- nzchar(info$key.var.num.args)
  params <- setdiff(info$param.names, if (variadic) info$key.var.num.args else character())
  list(op = info$name, inputs = info$input.names, params = params, variadic = variadic,
       num.args = info$key.var.num.args)
}

.mx.op.make <- function(spec, ns, kind) {
  f <- function() NULL
  if (kind == "nd") {
    formals(f) <- .mx.op.formals(spec$inputs, spec$params, spec$variadic, list(out = NULL))
  } else {
    formals(f) <- .mx.op.formals(spec$inputs, spec$params, spec$variadic,
                                 list(name = NULL, attr = NULL))
  }
  fm <- setdiff(names(formals(f)), c("...", "out", "name", "attr"))
  ins <- if (spec$variadic) character() else intersect(spec$inputs, fm)
  prs <- setdiff(fm, ins)
  in.call <- as.call(c(as.name("list"), .mx.named(lapply(ins, as.name), ins)))
  pr.call <- as.call(c(as.name("list"), .mx.named(lapply(prs, as.name), prs)))
  body(f) <- if (kind == "nd") {
    bquote(.mx.nd.op.call(.(spec$op), .(in.call), .(pr.call), list(...), out))
  } else {
    bquote(.mx.sym.op.call(.(spec$op), .(in.call), .(pr.call), list(...), name, attr))
  }
  environment(f) <- ns
  f
}

.mx.onload.ops <- function(ns) {
  ops <- .mx.op.public(.Call(C_mxr_op_list))
  specs <- list()
  for (op in ops) {
    spec <- .mx.op.spec(.Call(C_mxr_op_info, op))
    specs[[op]] <- spec
    for (kind in c("nd", "symbol")) {
      fname <- paste0("mx.", kind, ".", op)
      if (exists(fname, envir = ns, inherits = FALSE)) next
      assign(fname, .mx.op.make(spec, ns, if (kind == "nd") "nd" else "symbol"), envir = ns)
    }
  }
  .mx.env$op.specs <- specs
  invisible(NULL)
}

# The op's spec (input names, params, variadic), cached for the public ops.
.mx.op.spec.of <- function(op) {
  spec <- .mx.env$op.specs[[op]]
  if (is.null(spec)) {
    if (!.Call(C_mxr_op_exists, op)) stop("unknown op '", op, "'", call. = FALSE)
    spec <- .mx.op.spec(.Call(C_mxr_op_info, op))
  }
  spec
}

# Splits list(...) of a generated call: unnamed entries are extra inputs (variadic ops only),
# named ones are inputs (when they name one) or extra parameters.
.mx.op.dots <- function(spec, dots, is.input) {
  nm <- names(dots)
  if (is.null(nm)) nm <- rep("", length(dots))
  pos <- dots[!nzchar(nm)]
  named <- dots[nzchar(nm)]
  if (length(pos) && !spec$variadic) {
    stop(spec$op, ": too many unnamed arguments (inputs are ",
         paste(spec$inputs, collapse = ", "), ")", call. = FALSE)
  }
  in.named <- named[vapply(named, is.input, logical(1))]
  list(pos = pos, inputs = in.named, params = named[!vapply(named, is.input, logical(1))])
}

.mx.op.params <- function(spec, params, extra, n.var) {
  params <- c(params, extra)
  params <- params[!vapply(params, is.null, logical(1))]
  if (spec$variadic) params[[spec$num.args]] <- n.var
  params
}

.mx.nd.op.call <- function(op, inputs, params, dots, out) {
  spec <- .mx.op.spec.of(op)
  d <- .mx.op.dots(spec, dots, function(v) is.MXNDArray(v) || (is.list(v) && length(v) &&
                                                                all(vapply(v, is.MXNDArray,
                                                                           logical(1)))))
  if (spec$variadic) {
    ins <- c(d$pos, d$inputs)
    if (length(ins) == 1L && is.list(ins[[1L]]) && !is.MXNDArray(ins[[1L]])) ins <- ins[[1L]]
  } else {
    if (length(d$inputs)) {
      bad <- setdiff(names(d$inputs), spec$inputs)
      if (length(bad)) stop(op, ": unknown input '", bad[1L], "'", call. = FALSE)
    }
    given <- !vapply(inputs, is.null, logical(1))
    if (any(given) && !all(given[seq_len(max(which(given)))])) {
      stop(op, ": input '", names(inputs)[which(!given)[1L]], "' is missing before '",
           names(inputs)[max(which(given))], "'", call. = FALSE)
    }
    ins <- unname(inputs[given])
  }
  for (i in seq_along(ins)) {
    if (!is.MXNDArray(ins[[i]])) {
      nm <- if (spec$variadic) paste0("input ", i) else paste0("input '", spec$inputs[i], "'")
      stop(op, ": ", nm, " must be an MXNDArray, not ", class(ins[[i]])[1L], call. = FALSE)
    }
  }
  params <- .mx.op.params(spec, params, d$params, length(ins))
  res <- .mx.invoke(op, unname(ins), params, out)
  if (length(res) == 1L) res[[1L]] else res
}

.mx.sym.op.call <- function(op, inputs, params, dots, name, attr) {
  spec <- .mx.op.spec.of(op)
  d <- .mx.op.dots(spec, dots, is.MXSymbol)
  if (spec$variadic) {
    ins <- c(d$pos, unname(d$inputs))
    if (length(ins) == 1L && is.list(ins[[1L]]) && !is.MXSymbol(ins[[1L]])) ins <- ins[[1L]]
    ins <- unname(ins)
  } else {
    ins <- c(inputs[!vapply(inputs, is.null, logical(1))], d$inputs)
    bad <- setdiff(names(ins), spec$inputs)
    if (length(bad)) stop(op, ": unknown input '", bad[1L], "'", call. = FALSE)
  }
  for (i in seq_along(ins)) {
    if (!is.MXSymbol(ins[[i]])) {
      nm <- if (spec$variadic) paste0("input ", i) else paste0("input '", names(ins)[i], "'")
      stop(op, ": ", nm, " must be an MXSymbol, not ", class(ins[[i]])[1L], call. = FALSE)
    }
  }
  params <- .mx.op.params(spec, params, d$params, length(ins))
  .mx.sym.create(op, ins, params, name, attr)
}

# A symbol node: op by name, inputs a list of MXSymbols (all named by input or all positional),
# params a named list of R values, attr a named list of node attributes.
.mx.sym.create <- function(op, inputs = list(), params = list(), name = NULL, attr = NULL) {
  p <- .mx.params(params)
  if (length(attr)) {
    a <- .mx.params(attr)
    p$keys <- c(p$keys, paste0("__", a$keys, "__"))
    p$vals <- c(p$vals, a$vals)
  }
  if (!is.null(name) && (!is.character(name) || length(name) != 1L || is.na(name))) {
    stop("name must be a single string", call. = FALSE)
  }
  .Call(C_mxr_sym_create, op, p$keys, p$vals, inputs, name)
}

.mx.named <- function(x, nm) {
  names(x) <- nm
  x
}
