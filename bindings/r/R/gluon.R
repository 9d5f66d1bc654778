# A Gluon-style sequential API. Blocks are environments (reference semantics, like Gluon's
# Python objects):
#
#   net <- mx.gluon.sequential(mx.gluon.conv2d(32, 3, padding = 1, activation = "relu"),
#                              mx.gluon.maxpool2d(2), mx.gluon.flatten(), mx.gluon.dense(10))
#   mx.gluon.initialize(net, mx.init.Xavier())
#   trainer <- mx.gluon.trainer(net, "sgd", learning.rate = 0.1)
#   loss <- mx.autograd.record(mx.gluon.loss.softmax.cross.entropy(mx.gluon.forward(net, x), y))
#   mx.autograd.backward(loss); mx.gluon.trainer.step(trainer, batch.size)
#
# Each layer is one libmx op (FullyConnected, Convolution, Pooling, Activation, Dropout,
# BatchNorm, Flatten), run imperatively, so autograd records it when recording is on; dropout and
# batch statistics follow autograd's training mode (on inside mx.autograd.record). Parameter
# shapes are inferred by libmx from the first input (deferred initialisation, as in Gluon).
# Parameter names are structural, as Gluon's save_parameters writes them ("0.weight",
# "1.running_mean", "2.0.bias" in nested blocks), so files of real MXNet load here and back.
# Op-level parameters (kernel, strides, padding) are given in NDArray order (height, width).

.mx.gluon.new <- function(type, op = NULL, op.params = list(), param.names = character(0),
                          op.inputs = character(0), trainable = logical(0), act = NULL) {
  b <- new.env(parent = emptyenv())
  b$type <- type
  b$op <- op
  b$op.params <- op.params
  b$param.names <- param.names  # Gluon names, in the op's input order
  b$op.inputs <- op.inputs      # the op's input names for them
  b$trainable <- trainable
  b$act <- act
  b$params <- list()
  b$initializer <- NULL
  b$ctx <- NULL
  class(b) <- c(paste0("MXGluon.", type), "MXGluonBlock")
  b
}

is.MXGluonBlock <- function(x) inherits(x, "MXGluonBlock")

.mx.gluon.check.block <- function(x, what = "net") {
  if (!is.MXGluonBlock(x)) stop(what, " must be a Gluon block (mx.gluon.*)", call. = FALSE)
  invisible(x)
}

.mx.gluon.int <- function(x, what, min = 1, len = 1L) {
  if (!is.numeric(x) || !(length(x) %in% len) || anyNA(x) || any(x < min) ||
      any(x != round(x))) {
    stop(what, " must be ", if (length(len) > 1L) "one or two whole numbers" else
           "a whole number", " >= ", min, call. = FALSE)
  }
  as.integer(x)
}

.mx.gluon.pair <- function(x, what, min) {
  x <- .mx.gluon.int(x, what, min, len = 1:2)
  if (length(x) == 1L) rep(x, 2L) else x
}

.mx.gluon.act <- function(activation) {
  if (is.null(activation)) return(NULL)
  if (!is.character(activation) || length(activation) != 1L) {
    stop("activation must be NULL or a name (\"relu\", \"sigmoid\", \"tanh\", \"softrelu\", ",
         "\"softsign\")", call. = FALSE)
  }
  activation
}

mx.gluon.sequential <- function(...) {
  net <- .mx.gluon.new("sequential")
  net$layers <- list()
  mx.gluon.add(net, ...)
  net
}

mx.gluon.add <- function(net, ...) {
  .mx.gluon.check.block(net)
  if (!inherits(net, "MXGluon.sequential")) stop("layers are added to a mx.gluon.sequential()",
                                                 call. = FALSE)
  for (l in list(...)) {
    .mx.gluon.check.block(l, "each layer")
    if (identical(l, net)) stop("a block cannot contain itself", call. = FALSE)
    net$layers[[length(net$layers) + 1L]] <- l
  }
  invisible(net)
}

mx.gluon.dense <- function(units, activation = NULL, use.bias = TRUE, flatten = TRUE,
                           in.units = 0) {
  units <- .mx.gluon.int(units, "units")
  .mx.gluon.int(in.units, "in.units", 0)
  use.bias <- .mx.gluon.flag(use.bias, "use.bias")
  .mx.gluon.new("dense", "FullyConnected",
                list(num_hidden = units, no_bias = !use.bias,
                     flatten = .mx.gluon.flag(flatten, "flatten")),
                if (use.bias) c("weight", "bias") else "weight",
                if (use.bias) c("weight", "bias") else "weight",
                rep(TRUE, if (use.bias) 2L else 1L), .mx.gluon.act(activation))
}

mx.gluon.conv2d <- function(channels, kernel.size, strides = 1, padding = 0, dilation = 1,
                            groups = 1, activation = NULL, use.bias = TRUE, in.channels = 0) {
  channels <- .mx.gluon.int(channels, "channels")
  .mx.gluon.int(in.channels, "in.channels", 0)
  use.bias <- .mx.gluon.flag(use.bias, "use.bias")
  .mx.gluon.new("conv2d", "Convolution",
                list(kernel = .mx.gluon.pair(kernel.size, "kernel.size", 1),
                     stride = .mx.gluon.pair(strides, "strides", 1),
                     pad = .mx.gluon.pair(padding, "padding", 0),
                     dilate = .mx.gluon.pair(dilation, "dilation", 1),
                     num_filter = channels, num_group = .mx.gluon.int(groups, "groups"),
                     no_bias = !use.bias, layout = "NCHW"),
                if (use.bias) c("weight", "bias") else "weight",
                if (use.bias) c("weight", "bias") else "weight",
                rep(TRUE, if (use.bias) 2L else 1L), .mx.gluon.act(activation))
}

.mx.gluon.pool <- function(type, pool.type, pool.size, strides, padding) {
  pool.size <- .mx.gluon.pair(pool.size, "pool.size", 1)
  strides <- if (is.null(strides)) pool.size else .mx.gluon.pair(strides, "strides", 1)
  .mx.gluon.new(type, "Pooling",
                list(kernel = pool.size, stride = strides,
                     pad = .mx.gluon.pair(padding, "padding", 0), pool_type = pool.type,
                     pooling_convention = "valid", layout = "NCHW"))
}

mx.gluon.maxpool2d <- function(pool.size = 2, strides = NULL, padding = 0) {
  .mx.gluon.pool("maxpool2d", "max", pool.size, strides, padding)
}

mx.gluon.avgpool2d <- function(pool.size = 2, strides = NULL, padding = 0) {
  .mx.gluon.pool("avgpool2d", "avg", pool.size, strides, padding)
}

mx.gluon.activation <- function(activation) {
  if (missing(activation) || is.null(activation)) stop("activation is required", call. = FALSE)
  .mx.gluon.new("activation", "Activation", list(act_type = .mx.gluon.act(activation)))
}

mx.gluon.dropout <- function(rate) {
  if (!is.numeric(rate) || length(rate) != 1L || is.na(rate) || rate < 0 || rate >= 1) {
    stop("rate must be a single number in [0, 1)", call. = FALSE)
  }
  .mx.gluon.new("dropout", "Dropout", list(p = rate))
}

mx.gluon.flatten <- function() .mx.gluon.new("flatten", "Flatten")

mx.gluon.batchnorm <- function(axis = 1, momentum = 0.9, epsilon = 1e-5, center = TRUE,
                               scale = TRUE, in.channels = 0) {
  .mx.gluon.int(axis, "axis", 0)
  .mx.gluon.int(in.channels, "in.channels", 0)
  if (!is.numeric(momentum) || length(momentum) != 1L || momentum < 0 || momentum > 1) {
    stop("momentum must be a number in [0, 1]", call. = FALSE)
  }
  if (!is.numeric(epsilon) || length(epsilon) != 1L || !(epsilon > 0)) {
    stop("epsilon must be a number > 0", call. = FALSE)
  }
  center <- .mx.gluon.flag(center, "center")
  scale <- .mx.gluon.flag(scale, "scale")
  .mx.gluon.new("batchnorm", "BatchNorm",
                list(axis = as.integer(axis), momentum = momentum, eps = epsilon,
                     fix_gamma = !scale, use_global_stats = FALSE),
                c("gamma", "beta", "running_mean", "running_var"),
                c("gamma", "beta", "moving_mean", "moving_var"),
                c(scale, center, FALSE, FALSE))
}

# ---- parameters

# Every parameter slot of a block: list of list(block, name, full) in order.
.mx.gluon.slots <- function(net, prefix = "") {
  if (inherits(net, "MXGluon.sequential")) {
    out <- list()
    for (i in seq_along(net$layers)) {
      out <- c(out, .mx.gluon.slots(net$layers[[i]], paste0(prefix, i - 1L, ".")))
    }
    return(out)
  }
  lapply(net$param.names, function(p) list(block = net, name = p, full = paste0(prefix, p)))
}

.mx.gluon.leaves <- function(net) {
  if (inherits(net, "MXGluon.sequential")) {
    return(do.call(c, c(list(list()), lapply(net$layers, .mx.gluon.leaves))))
  }
  list(net)
}

mx.gluon.initialize <- function(net, initializer = mx.init.uniform(0.07), ctx = NULL,
                                force.reinit = FALSE) {
  .mx.gluon.check.block(net)
  if (!is.function(initializer)) stop("initializer must be an initializer (mx.init.*)",
                                      call. = FALSE)
  if (is.null(ctx)) ctx <- mx.ctx.default()
  .mx.ctx.ids(ctx)
  force.reinit <- .mx.gluon.flag(force.reinit, "force.reinit")
  for (l in .mx.gluon.leaves(net)) {
    l$initializer <- initializer
    l$ctx <- ctx
    if (force.reinit) l$params <- list()
  }
  invisible(net)
}

# Registers p (and a fresh gradient buffer) with autograd when trainable.
.mx.gluon.set.param <- function(block, name, arr) {
  block$params[[name]] <- arr
  if (block$trainable[match(name, block$param.names)]) {
    g <- mx.nd.zeros(dim(arr), mx.nd.context(arr), dtype = mx.nd.dtype(arr))
    .Call(C_mxr_ag_mark_variables, list(arr), "write", list(g))
  }
  invisible(arr)
}

# Creates the missing parameters of a leaf from the shapes libmx infers for input dims d.
.mx.gluon.init.params <- function(block, d, full.names) {
  if (is.null(block$initializer)) {
    stop("the block's parameters are not initialised: call mx.gluon.initialize(net) or ",
         "mx.gluon.load.parameters(net, file) first", call. = FALSE)
  }
  p <- .mx.params(block$op.params)
  sym <- .Call(C_mxr_sym_create, block$op, p$keys, p$vals,
               list(data = .Call(C_mxr_sym_variable, "data")), "l")
  res <- tryCatch(.Call(C_mxr_sym_infer_shape, sym, list(data = as.numeric(d)), FALSE),
                  error = function(e) stop(sprintf("%s layer: input dims c(%s) do not fit: %s",
                                                   block$type, paste(d, collapse = ", "),
                                                   conditionMessage(e)), call. = FALSE))
  shapes <- c(res$arg.shapes, res$aux.shapes)
  for (i in seq_along(block$param.names)) {
    nm <- block$param.names[i]
    if (!is.null(block$params[[nm]])) next
    shp <- shapes[[paste0("l_", block$op.inputs[i])]]
    if (is.null(shp)) stop("cannot infer the shape of ", full.names[i], call. = FALSE)
    arr <- block$initializer(full.names[i], shp, block$ctx)
    .mx.gluon.set.param(block, nm, arr)
  }
}

mx.gluon.collect.params <- function(net) {
  .mx.gluon.check.block(net)
  slots <- .mx.gluon.slots(net)
  out <- list()
  for (s in slots) {
    p <- s$block$params[[s$name]]
    if (is.null(p)) {
      stop("parameter ", s$full, " is not initialised yet (run a forward pass first)",
           call. = FALSE)
    }
    out[[s$full]] <- p
  }
  out
}

mx.gluon.save.parameters <- function(net, filename) {
  params <- mx.gluon.collect.params(net)
  if (length(params) == 0L) stop("the block has no parameters", call. = FALSE)
  mx.nd.save(params, filename)
}

mx.gluon.load.parameters <- function(net, filename, ctx = NULL, allow.missing = FALSE,
                                     ignore.extra = FALSE) {
  .mx.gluon.check.block(net)
  if (!is.character(filename) || length(filename) != 1L) stop("filename must be a string",
                                                             call. = FALSE)
  if (!file.exists(filename)) stop("parameter file not found: ", filename, call. = FALSE)
  loaded <- mx.nd.load(filename)
  nms <- names(loaded)
  if (length(loaded) && is.null(nms)) stop("the parameter file has no names", call. = FALSE)
  # Files of Module/export carry "arg:"/"aux:" prefixes; Gluon's save_parameters none.
  nms <- sub("^(arg|aux):", "", nms)
  names(loaded) <- nms
  if (is.null(ctx)) ctx <- mx.ctx.default()
  slots <- .mx.gluon.slots(net)
  full <- vapply(slots, function(s) s$full, character(1))
  missing.names <- setdiff(full, nms)
  if (length(missing.names) && !allow.missing) {
    stop("parameter(s) missing from ", filename, ": ", paste(missing.names, collapse = ", "),
         call. = FALSE)
  }
  extra <- setdiff(nms, full)
  if (length(extra) && !ignore.extra) {
    stop("the file ", filename, " has parameter(s) the block does not: ",
         paste(extra, collapse = ", "), call. = FALSE)
  }
  for (s in slots) {
    src <- loaded[[s$full]]
    if (is.null(src)) next
    cur <- s$block$params[[s$name]]
    if (!is.null(cur)) {
      if (!identical(as.numeric(dim(cur)), as.numeric(dim(src)))) {
        stop(sprintf("parameter %s: the file has dims c(%s), the block c(%s)", s$full,
                     paste(dim(src), collapse = ", "), paste(dim(cur), collapse = ", ")),
             call. = FALSE)
      }
      .Call(C_mxr_nd_copyto, src, cur)
    } else {
      ids <- .mx.ctx.ids(ctx)
      .mx.gluon.set.param(s$block, s$name, .Call(C_mxr_nd_copy, src, "float32", ids[1L],
                                                  ids[2L]))
    }
  }
  for (l in .mx.gluon.leaves(net)) {
    if (is.null(l$ctx)) l$ctx <- ctx
    if (is.null(l$initializer) && length(l$param.names) &&
        all(vapply(l$param.names, function(p) !is.null(l$params[[p]]), logical(1)))) {
      l$initializer <- function(name, shape, ctx) {
        stop("parameter ", name, " was not in the loaded file", call. = FALSE)
      }
    }
  }
  invisible(net)
}

# ---- forward

.mx.gluon.forward.leaf <- function(block, x, prefix) {
  if (length(block$param.names)) {
    if (any(vapply(block$param.names, function(p) is.null(block$params[[p]]), logical(1)))) {
      .mx.gluon.init.params(block, dim(x), paste0(prefix, block$param.names))
    }
  }
  inputs <- c(list(x), unname(block$params[block$param.names]))
  out <- .mx.invoke(block$op, inputs, block$op.params)[[1L]]
  if (!is.null(block$act)) out <- .mx.invoke1("Activation", list(out), list(act_type = block$act))
  out
}

.mx.gluon.forward.block <- function(net, x, prefix) {
  if (inherits(net, "MXGluon.sequential")) {
    for (i in seq_along(net$layers)) {
      x <- .mx.gluon.forward.block(net$layers[[i]], x, paste0(prefix, i - 1L, "."))
    }
    return(x)
  }
  .mx.gluon.forward.leaf(net, x, prefix)
}

mx.gluon.forward <- function(net, x) {
  .mx.gluon.check.block(net)
  if (!is.MXNDArray(x)) {
    if (!(is.numeric(x) || is.logical(x))) {
      stop("x must be an MXNDArray or a numeric array (got ", class(x)[1L], ")", call. = FALSE)
    }
    ctx <- .mx.gluon.leaves(net)
    ctx <- if (length(ctx) && !is.null(ctx[[1L]]$ctx)) ctx[[1L]]$ctx else NULL
    x <- mx.nd.array(x, ctx, copy = TRUE)
  } else {
    .mx.check.ndarray(x, "x")
  }
  .mx.gluon.forward.block(net, x, "")
}

print.MXGluonBlock <- function(x, ...) {
  show <- function(b, indent) {
    if (inherits(b, "MXGluon.sequential")) {
      cat(indent, "sequential(\n", sep = "")
      for (i in seq_along(b$layers)) {
        cat(indent, "  (", i - 1L, ")\n", sep = "")
        show(b$layers[[i]], paste0(indent, "    "))
      }
      cat(indent, ")\n", sep = "")
    } else {
      ps <- vapply(b$param.names, function(p) {
        a <- b$params[[p]]
        paste0(p, if (is.null(a)) "(deferred)" else paste0("(", paste(dim(a), collapse = "x"), ")"))
      }, character(1))
      cat(indent, b$type, if (length(ps)) paste0(" [", paste(ps, collapse = ", "), "]"),
          if (!is.null(b$act)) paste0(" + ", b$act), "\n", sep = "")
    }
  }
  show(x, "")
  invisible(x)
}

# ---- losses (per-sample values: a vector of the batch size)

.mx.gluon.label <- function(label, like) {
  if (!is.MXNDArray(label)) {
    if (!(is.numeric(label) || is.logical(label))) stop("label must be numeric", call. = FALSE)
    label <- mx.nd.array(as.double(label), mx.nd.context(like), copy = TRUE)
  }
  label
}

mx.gluon.loss.softmax.cross.entropy <- function(pred, label) {
  .mx.check.ndarray(pred, "pred")
  label <- .mx.gluon.label(label, pred)
  logp <- .mx.invoke1("log_softmax", list(pred), list(axis = -1L))
  .mx.invoke1("negative", list(.mx.invoke1("pick", list(logp, label), list(axis = -1L))))
}

mx.gluon.loss.l2 <- function(pred, label) {
  .mx.check.ndarray(pred, "pred")
  label <- .mx.gluon.label(label, pred)
  label <- .mx.invoke1("reshape_like", list(label, pred))
  sq <- .mx.invoke1("square", list(.mx.invoke1("broadcast_sub", list(pred, label))))
  half <- .mx.invoke1("_mul_scalar", list(sq), list(scalar = 0.5))
  if (length(dim(pred)) <= 1L) return(half)
  .mx.invoke1("mean", list(half), list(axis = 0L, exclude = TRUE))
}

# ---- trainer

mx.gluon.trainer <- function(net, optimizer = "sgd", ...) {
  .mx.gluon.check.block(net)
  tr <- new.env(parent = emptyenv())
  tr$net <- net
  tr$optimizer <- mx.opt.create(optimizer, ...)
  tr$states <- new.env(parent = emptyenv())
  class(tr) <- "MXGluonTrainer"
  tr
}

mx.gluon.trainer.step <- function(trainer, batch.size) {
  if (!inherits(trainer, "MXGluonTrainer")) stop("trainer must come from mx.gluon.trainer()",
                                                 call. = FALSE)
  if (!is.numeric(batch.size) || length(batch.size) != 1L || !(batch.size > 0)) {
    stop("batch.size must be a number > 0", call. = FALSE)
  }
  opt <- trainer$optimizer
  opt$config$rescale.grad <- 1 / batch.size
  slots <- .mx.gluon.slots(trainer$net)
  i <- 0L
  for (s in slots) {
    i <- i + 1L
    b <- s$block
    if (!b$trainable[match(s$name, b$param.names)]) next
    w <- b$params[[s$name]]
    if (is.null(w)) {
      stop("parameter ", s$full, " is not initialised yet (run a forward pass first)",
           call. = FALSE)
    }
    g <- .Call(C_mxr_nd_get_grad, w)
    if (is.null(g)) next
    if (!exists(s$full, envir = trainer$states, inherits = FALSE)) {
      assign(s$full, opt$create.state(i, w), envir = trainer$states)
    }
    opt$update(i, w, g, get(s$full, envir = trainer$states, inherits = FALSE))
  }
  invisible(trainer)
}

.mx.gluon.flag <- function(x, what) {
  if (!is.logical(x) || length(x) != 1L || is.na(x)) stop(what, " must be TRUE or FALSE",
                                                          call. = FALSE)
  x
}
