# Symbols: graphs of ops held by libmx. An MXSymbol is an external pointer to an mx_symbol
# handle (class "MXSymbol"), freed by its finalizer. Op nodes come from the generated
# mx.symbol.<Op> functions (ops.R); shapes cross in R order (c(W,H,C,N) is the NDArray (N,C,H,W)).

is.MXSymbol <- function(x) inherits(x, "MXSymbol")

.mx.check.symbol <- function(x, what = "symbol") {
  if (!is.MXSymbol(x)) stop(what, " must be an MXSymbol", call. = FALSE)
  if (!.Call(C_mxr_handle_valid, x)) stop(what, " is a freed MXSymbol", call. = FALSE)
  invisible(x)
}

.mx.check.string <- function(x, what) {
  if (!is.character(x) || length(x) != 1L || is.na(x) || !nzchar(x)) {
    stop(what, " must be a single non-empty string", call. = FALSE)
  }
  invisible(x)
}

mx.symbol.Variable <- function(name, attr = NULL, shape = NULL, lr.mult = NULL,
                               wd.mult = NULL, init = NULL) {
  .mx.check.string(name, "name")
  s <- .Call(C_mxr_sym_variable, name)
  extra <- list(`__shape__` = if (!is.null(shape)) .mx.param.str(rev(shape)),
                `__lr_mult__` = lr.mult, `__wd_mult__` = wd.mult, `__init__` = init)
  extra <- extra[!vapply(extra, is.null, logical(1))]
  if (length(attr)) {
    if (!is.list(attr) && !is.character(attr)) stop("attr must be a named list", call. = FALSE)
    a <- .mx.params(as.list(attr))
    extra[a$keys] <- as.list(a$vals)
  }
  for (k in names(extra)) .Call(C_mxr_sym_set_attr, s, k, .mx.param.str(extra[[k]]))
  s
}

mx.symbol.Group <- function(...) {
  syms <- list(...)
  if (length(syms) == 1L && is.list(syms[[1L]]) && !is.MXSymbol(syms[[1L]])) syms <- syms[[1L]]
  if (length(syms) == 0L) stop("mx.symbol.Group needs at least one symbol", call. = FALSE)
  for (i in seq_along(syms)) .mx.check.symbol(syms[[i]], sprintf("symbol %d", i))
  .Call(C_mxr_sym_group, unname(syms))
}

# ---- files and JSON (MXNet's -symbol.json format)

mx.symbol.save <- function(symbol, filename) {
  .mx.check.symbol(symbol)
  .mx.check.string(filename, "filename")
  invisible(.Call(C_mxr_sym_save, symbol, path.expand(filename)))
}

mx.symbol.load <- function(filename) {
  .mx.check.string(filename, "filename")
  if (!file.exists(path.expand(filename))) {
    stop("mx.symbol.load: file not found: ", filename, call. = FALSE)
  }
  .Call(C_mxr_sym_load, path.expand(filename))
}

mx.symbol.load.json <- function(json) {
  if (!is.character(json) || length(json) == 0L || anyNA(json)) {
    stop("json must be a string", call. = FALSE)
  }
  .Call(C_mxr_sym_from_json, paste(json, collapse = "\n"))
}

mx.symbol.to.json <- function(symbol) {
  .mx.check.symbol(symbol)
  .Call(C_mxr_sym_to_json, symbol)
}

# ---- structure

.mx.sym.list <- function(symbol, which) {
  .mx.check.symbol(symbol)
  .Call(C_mxr_sym_list, symbol, which)
}

mx.symbol.arguments <- function(symbol) .mx.sym.list(symbol, 0L)
mx.symbol.outputs <- function(symbol) .mx.sym.list(symbol, 1L)
mx.symbol.auxiliary.states <- function(symbol) .mx.sym.list(symbol, 2L)
mx.symbol.inputs <- function(symbol) .mx.sym.list(symbol, 3L)

arguments <- function(x) mx.symbol.arguments(x)
outputs <- function(x) mx.symbol.outputs(x)

mx.symbol.internals <- function(symbol) {
  .mx.check.symbol(symbol)
  .Call(C_mxr_sym_get_internals, symbol)
}
internals <- function(x) mx.symbol.internals(x)

mx.symbol.children <- function(symbol) {
  .mx.check.symbol(symbol)
  .Call(C_mxr_sym_get_children, symbol)
}
children <- function(x) mx.symbol.children(x)

mx.symbol.num.outputs <- function(symbol) {
  .mx.check.symbol(symbol)
  .Call(C_mxr_sym_num_outputs, symbol)
}

mx.symbol.name <- function(symbol) {
  .mx.check.symbol(symbol)
  .Call(C_mxr_sym_name, symbol)
}

# One output of a multi-output symbol, by 1-based index or by output name.
mx.symbol.get.output <- function(symbol, index) {
  .mx.check.symbol(symbol)
  n <- .Call(C_mxr_sym_num_outputs, symbol)
  if (is.character(index)) {
    if (length(index) != 1L || is.na(index)) stop("index must be one output name", call. = FALSE)
    i <- match(index, .Call(C_mxr_sym_list, symbol, 1L))
    if (is.na(i)) stop("symbol has no output named '", index, "'", call. = FALSE)
    index <- i
  }
  if (!is.numeric(index) || length(index) != 1L || is.na(index) || index != round(index) ||
      index < 1 || index > n) {
    stop(sprintf("index must be a whole number in 1..%d", n), call. = FALSE)
  }
  .Call(C_mxr_sym_get_output, symbol, as.integer(index - 1))
}

`[[.MXSymbol` <- function(x, i) mx.symbol.get.output(x, i)

mx.symbol.get.attr <- function(symbol, key) {
  .mx.check.symbol(symbol)
  .mx.check.string(key, "key")
  .Call(C_mxr_sym_get_attr, symbol, key)
}

mx.symbol.set.attr <- function(symbol, key, value) {
  .mx.check.symbol(symbol)
  .mx.check.string(key, "key")
  invisible(.Call(C_mxr_sym_set_attr, symbol, key, .mx.param.str(value)))
}

mx.symbol.attributes <- function(symbol, recursive = FALSE) {
  .mx.check.symbol(symbol)
  a <- .Call(C_mxr_sym_list_attr, symbol, isTRUE(recursive))
  if (!isTRUE(recursive)) return(.mx.named(as.list(a$value), a$key))
  split(.mx.named(a$value, a$key), factor(a$node, levels = unique(a$node)))
}

# ---- composition: replace free variables of a symbol by other symbols

mx.symbol.compose <- function(symbol, ..., name = NULL) {
  .mx.check.symbol(symbol)
  args <- list(...)
  if (length(args) == 1L && is.list(args[[1L]]) && !is.MXSymbol(args[[1L]])) args <- args[[1L]]
  for (i in seq_along(args)) .mx.check.symbol(args[[i]], sprintf("argument %d", i))
  nm <- names(args)
  if (!is.null(nm) && !all(nzchar(nm))) {
    stop("compose: name every argument (by variable name) or none", call. = FALSE)
  }
  if (!is.null(name)) .mx.check.string(name, "name")
  .Call(C_mxr_sym_compose, symbol, name, args)
}

mx.apply <- function(symbol, ...) mx.symbol.compose(symbol, ...)

mx.symbol.gradient <- function(symbol, wrt) {
  .mx.check.symbol(symbol)
  if (!is.character(wrt) || anyNA(wrt)) stop("wrt must name arguments", call. = FALSE)
  .Call(C_mxr_sym_gradient, symbol, wrt)
}

# ---- shape and type inference (R dim order in and out)

.mx.shape.args <- function(...) {
  shapes <- list(...)
  if (length(shapes) == 1L && is.null(names(shapes)) && is.list(shapes[[1L]])) shapes <- shapes[[1L]]
  if (length(shapes) && (is.null(names(shapes)) || !all(nzchar(names(shapes))))) {
    stop("give the shapes by argument name: data = c(W, H, C, N)", call. = FALSE)
  }
  for (k in names(shapes)) {
    s <- shapes[[k]]
    if (!is.numeric(s) || anyNA(s) || any(s < 0) || any(s != round(s))) {
      stop("the shape of '", k, "' must be a vector of whole numbers >= 0", call. = FALSE)
    }
  }
  shapes
}

mx.symbol.infer.shape <- function(symbol, ..., partial = FALSE) {
  .mx.check.symbol(symbol)
  shapes <- .mx.shape.args(...)
  unknown <- setdiff(names(shapes), .Call(C_mxr_sym_list, symbol, 3L))
  if (length(unknown)) {
    stop("infer.shape: the symbol has no input named '", unknown[1L], "'", call. = FALSE)
  }
  res <- .Call(C_mxr_sym_infer_shape, symbol, shapes, isTRUE(partial))
  if (!isTRUE(partial) && !isTRUE(res$complete)) return(NULL)
  res
}

mx.symbol.infer.type <- function(symbol, ..., partial = FALSE) {
  .mx.check.symbol(symbol)
  types <- list(...)
  if (length(types) == 1L && is.null(names(types)) && is.list(types[[1L]])) types <- types[[1L]]
  res <- .Call(C_mxr_sym_infer_type, symbol, unlist(types), isTRUE(partial))
  if (!isTRUE(partial) && !isTRUE(res$complete)) return(NULL)
  res
}

# ---- printing

format.MXSymbol <- function(x, ...) {
  if (!.Call(C_mxr_handle_valid, x)) return("<MXSymbol: freed>")
  outs <- .Call(C_mxr_sym_list, x, 1L)
  sprintf("<MXSymbol %s>", paste(outs, collapse = ", "))
}

print.MXSymbol <- function(x, ...) {
  cat(format(x), "\n", sep = "")
  invisible(x)
}

# ---- arithmetic and comparison (Ops group generic) as graph nodes

.mx.sym.ops.binary <- c(
  "+" = "_Plus", "-" = "_Minus", "*" = "_Mul", "/" = "_Div", "^" = "_Power", "%%" = "_Mod",
  "==" = "_Equal", "!=" = "_Not_Equal", ">" = "_Greater", ">=" = "_Greater_Equal",
  "<" = "_Lesser", "<=" = "_Lesser_Equal", "&" = "_Logical_And", "|" = "_Logical_Or")

.mx.sym.ops.scalar <- c(
  "+" = "_PlusScalar", "-" = "_MinusScalar", "*" = "_MulScalar", "/" = "_DivScalar",
  "^" = "_PowerScalar", "%%" = "_ModScalar", "==" = "_EqualScalar", "!=" = "_NotEqualScalar",
  ">" = "_GreaterScalar", ">=" = "_GreaterEqualScalar", "<" = "_LesserScalar",
  "<=" = "_LesserEqualScalar")

.mx.sym.ops.rscalar <- c(
  "+" = "_PlusScalar", "-" = "_RMinusScalar", "*" = "_MulScalar", "/" = "_RDivScalar",
  "^" = "_RPowerScalar", "%%" = "_RModScalar", "==" = "_EqualScalar", "!=" = "_NotEqualScalar",
  ">" = "_LesserScalar", ">=" = "_LesserEqualScalar", "<" = "_GreaterScalar",
  "<=" = "_GreaterEqualScalar")

Ops.MXSymbol <- function(e1, e2) {
  gen <- .Generic
  if (missing(e2)) {
    .mx.check.symbol(e1, "operand")
    return(switch(gen,
                  "+" = e1,
                  "-" = .mx.sym.create("negative", list(e1)),
                  "!" = .mx.sym.create("_EqualScalar", list(e1), list(scalar = 0)),
                  stop("unary ", gen, " is not defined for MXSymbol", call. = FALSE)))
  }
  s1 <- is.MXSymbol(e1)
  s2 <- is.MXSymbol(e2)
  if (s1 && s2) {
    op <- .mx.sym.ops.binary[gen]
    if (is.na(op)) stop(gen, " is not defined for MXSymbol", call. = FALSE)
    .mx.check.symbol(e1, "lhs")
    .mx.check.symbol(e2, "rhs")
    return(.mx.sym.create(op, list(e1, e2)))
  }
  sym <- if (s1) e1 else e2
  other <- if (s1) e2 else e1
  .mx.check.symbol(sym, "operand")
  if (!(is.numeric(other) || is.logical(other)) || length(other) != 1L) {
    stop("an MXSymbol combines with another MXSymbol or a single number, not ",
         class(other)[1L], if (is.numeric(other)) sprintf(" of length %d", length(other)),
         call. = FALSE)
  }
  op <- if (s1) .mx.sym.ops.scalar[gen] else .mx.sym.ops.rscalar[gen]
  if (is.na(op)) stop(gen, " with a scalar is not defined for MXSymbol", call. = FALSE)
  .mx.sym.create(op, list(sym), list(scalar = .mx.num.str(other)))
}
