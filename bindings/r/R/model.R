# Feed-forward models (MXNet-R conventions): an "MXFeedForwardModel" is
#   list(symbol = MXSymbol, arg.params = named list of MXNDArrays, aux.params = named list)
# Data X has the samples in its LAST R dim (a matrix with one column per sample, or an array
# c(W, H, C, N)); array.layout = "rowmajor" takes a matrix with one row per sample instead
# ("auto" decides from the number of labels). The graph input is "data"; labels are the
# arguments whose names end in "label".
#
#   mx.model.load(prefix, iteration) / mx.model.save(model, prefix, iteration)
#        <prefix>-symbol.json and <prefix>-<iteration %04d>.params ("arg:"/"aux:" names), the
#        files of MXNet's Module/export and of MX in Python
#   predict(model, X, ctx, array.batch.size, array.layout)   the first output, samples last
#   mx.model.FeedForward.create(symbol, X, y, ...)            training through an executor
#   mx.mlp(data, label, hidden_node, out_node, ...)           a multi-layer perceptron, trained
#
# Symbols are used through the glue directly (C_mxr_sym_*, C_mxr_exec_*), so this file does not
# depend on the generated mx.symbol.<Op> functions.

.mx.model.check.sym <- function(symbol) {
  if (!inherits(symbol, "MXSymbol") || !.Call(C_mxr_handle_valid, symbol)) {
    stop("symbol must be a live MXSymbol", call. = FALSE)
  }
  invisible(symbol)
}

.mx.model.args <- function(symbol) .Call(C_mxr_sym_list, symbol, 0L)
.mx.model.auxs <- function(symbol) .Call(C_mxr_sym_list, symbol, 2L)
.mx.model.is.label <- function(nm) grepl("label$", nm)

.mx.model.path.check <- function(path, what) {
  if (!file.exists(path)) stop(what, " not found: ", path, call. = FALSE)
  if (dir.exists(path)) stop(what, " is a directory: ", path, call. = FALSE)
  invisible(path)
}

.mx.model.files <- function(prefix, iteration) {
  if (!is.character(prefix) || length(prefix) != 1L || is.na(prefix) || !nzchar(prefix)) {
    stop("prefix must be a non-empty string", call. = FALSE)
  }
  if (!is.numeric(iteration) || length(iteration) != 1L || is.na(iteration) || iteration < 0 ||
      iteration != round(iteration)) {
    stop("iteration must be a whole number >= 0", call. = FALSE)
  }
  prefix <- path.expand(prefix)
  list(symbol = paste0(prefix, "-symbol.json"),
       params = sprintf("%s-%04d.params", prefix, as.integer(iteration)))
}

mx.model.load <- function(prefix, iteration) {
  f <- .mx.model.files(prefix, iteration)
  .mx.model.path.check(f$symbol, "symbol file")
  .mx.model.path.check(f$params, "parameter file")
  symbol <- tryCatch(.Call(C_mxr_sym_load, f$symbol), error = function(e) {
    stop("mx.model.load: cannot read the symbol file ", f$symbol, ": ", conditionMessage(e),
         call. = FALSE)
  })
  params <- tryCatch(.Call(C_mxr_nd_load, f$params), error = function(e) {
    stop("mx.model.load: cannot read the parameter file ", f$params, ": ", conditionMessage(e),
         call. = FALSE)
  })
  nms <- names(params)
  if (length(params) > 0L && is.null(nms)) {
    stop("mx.model.load: the parameter file ", f$params, " has no names (\"arg:...\"/\"aux:...\")",
         call. = FALSE)
  }
  is.arg <- startsWith(nms, "arg:")
  is.aux <- startsWith(nms, "aux:")
  if (any(!(is.arg | is.aux))) {
    stop("mx.model.load: unexpected parameter name(s) in ", f$params, ": ",
         paste(nms[!(is.arg | is.aux)][seq_len(min(5L, sum(!(is.arg | is.aux))))], collapse = ", "),
         " (expected \"arg:<name>\" or \"aux:<name>\")", call. = FALSE)
  }
  arg.params <- params[is.arg]
  names(arg.params) <- substring(nms[is.arg], 5L)
  aux.params <- params[is.aux]
  names(aux.params) <- substring(nms[is.aux], 5L)
  structure(list(symbol = symbol, arg.params = arg.params, aux.params = aux.params),
            class = "MXFeedForwardModel")
}

.mx.model.check <- function(model) {
  if (!inherits(model, "MXFeedForwardModel")) {
    stop("model must be an MXFeedForwardModel (mx.model.load, mx.model.FeedForward.create)",
         call. = FALSE)
  }
  .mx.model.check.sym(model$symbol)
  invisible(model)
}

mx.model.save <- function(model, prefix, iteration) {
  .mx.model.check(model)
  f <- .mx.model.files(prefix, iteration)
  arrays <- c(model$arg.params, model$aux.params)
  nms <- c(if (length(model$arg.params)) paste0("arg:", names(model$arg.params)),
           if (length(model$aux.params)) paste0("aux:", names(model$aux.params)))
  .Call(C_mxr_sym_save, model$symbol, f$symbol)
  .Call(C_mxr_nd_save, f$params, unname(arrays), if (length(nms)) nms else NULL)
  invisible(model)
}

print.MXFeedForwardModel <- function(x, ...) {
  cat("MXFeedForwardModel: ", length(x$arg.params), " parameter array(s), ",
      length(x$aux.params), " auxiliary state(s)\n", sep = "")
  cat("  outputs: ", paste(.Call(C_mxr_sym_list, x$symbol, 1L), collapse = ", "), "\n", sep = "")
  invisible(x)
}

# ---- data: R arrays with the samples in the last dim

# X as an R array with samples last (n = number of samples), after the layout choice.
.mx.model.data <- function(X, layout, n.label = NULL) {
  if (is.MXNDArray(X)) X <- as.array(X)
  if (is.data.frame(X)) X <- as.matrix(X)
  if (!(is.numeric(X) || is.logical(X)) || is.null(X)) {
    stop("X must be a numeric vector, matrix or array (got ", class(X)[1L], ")", call. = FALSE)
  }
  if (length(X) == 0L) stop("X is empty", call. = FALSE)
  if (anyNA(X)) stop("X contains NA values", call. = FALSE)
  layout <- match.arg(layout, c("auto", "colmajor", "rowmajor"))
  if (is.null(dim(X))) X <- array(X, dim = c(1L, length(X)))
  d <- dim(X)
  if (length(d) == 2L) {
    if (layout == "auto") {
      layout <- if (!is.null(n.label) && d[2L] != n.label && d[1L] == n.label) "rowmajor"
                else "colmajor"
    }
    if (layout == "rowmajor") X <- t(X)
  } else if (layout == "rowmajor") {
    stop("array.layout = \"rowmajor\" applies to matrices only", call. = FALSE)
  }
  storage.mode(X) <- "double"
  X
}

.mx.model.batch <- function(X, idx) {
  d <- dim(X)
  m <- X
  dim(m) <- c(length(X) / d[length(d)], d[length(d)])
  m[, idx, drop = FALSE]
}

.mx.model.ctx <- function(ctx) {
  if (is.null(ctx)) ctx <- mx.ctx.default()
  if (is.list(ctx) && !is.mx.context(ctx)) {
    if (length(ctx) != 1L) stop("one context per model: multi-device training is not supported",
                                call. = FALSE)
    ctx <- ctx[[1L]]
  }
  if (!is.mx.context(ctx)) stop("ctx must be a context: mx.cpu() or mx.gpu()", call. = FALSE)
  ctx
}

.mx.model.on.ctx <- function(arr, ctx, dtype = NULL) {
  c0 <- mx.nd.context(arr)
  if (identical(c0$device_typeid, ctx$device_typeid) && identical(c0$device_id, ctx$device_id) &&
      (is.null(dtype) || mx.nd.dtype(arr) == dtype)) {
    return(arr)
  }
  ids <- .mx.ctx.ids(ctx)
  .Call(C_mxr_nd_copy, arr, dtype, ids[1L], ids[2L])
}

.mx.model.infer <- function(symbol, data.dims, label.dims = NULL) {
  shapes <- list(data = as.numeric(data.dims))
  if (!is.null(label.dims)) shapes <- c(shapes, label.dims)
  res <- tryCatch(.Call(C_mxr_sym_infer_shape, symbol, shapes, FALSE), error = function(e) {
    stop("the data do not fit the model's input (data dims c(",
         paste(data.dims, collapse = ", "), ")): ", conditionMessage(e), call. = FALSE)
  })
  if (!isTRUE(res$complete)) {
    stop("cannot infer every shape of the model from data dims c(",
         paste(data.dims, collapse = ", "), ")", call. = FALSE)
  }
  res
}

# An executor for the model's symbol; params (named lists) given, inputs allocated.
.mx.model.bind <- function(symbol, ctx, shapes, arg.params, aux.params, grad.names = character(0),
                           check.params = TRUE) {
  args <- .mx.model.args(symbol)
  if (!("data" %in% args)) stop("the symbol has no input named \"data\"", call. = FALSE)
  ids <- .mx.ctx.ids(ctx)
  arg.arrays <- vector("list", length(args))
  grads <- vector("list", length(args))
  reqs <- character(length(args))
  for (i in seq_along(args)) {
    nm <- args[i]
    shp <- shapes$arg.shapes[[nm]]
    if (nm == "data" || .mx.model.is.label(nm)) {
      arg.arrays[[i]] <- mx.nd.zeros(shp, ctx)
    } else {
      p <- arg.params[[nm]]
      if (is.null(p)) stop("the model has no parameter \"", nm, "\"", call. = FALSE)
      if (check.params && !identical(as.numeric(dim(p)), as.numeric(shp))) {
        stop(sprintf("parameter \"%s\" has dims c(%s) but the model needs c(%s)", nm,
                     paste(dim(p), collapse = ", "), paste(shp, collapse = ", ")), call. = FALSE)
      }
      arg.arrays[[i]] <- .mx.model.on.ctx(p, ctx)
    }
    if (nm %in% grad.names) {
      grads[i] <- list(mx.nd.zeros(shp, ctx))
      reqs[i] <- "write"
    } else {
      reqs[i] <- "null"
    }
  }
  names(arg.arrays) <- args
  auxs <- .mx.model.auxs(symbol)
  aux.arrays <- lapply(auxs, function(nm) {
    p <- aux.params[[nm]]
    if (is.null(p)) stop("the model has no auxiliary state \"", nm, "\"", call. = FALSE)
    .mx.model.on.ctx(p, ctx)
  })
  names(aux.arrays) <- auxs
  exec <- .Call(C_mxr_exec_bind, symbol, ids[1L], ids[2L], unname(arg.arrays),
                if (length(grad.names)) grads else NULL, reqs, unname(aux.arrays), 0L)
  list(exec = exec, args = arg.arrays, grads = grads, reqs = reqs, aux = aux.arrays,
       names = args)
}

.mx.model.label.dims <- function(symbol, bs) {
  labs <- Filter(.mx.model.is.label, .mx.model.args(symbol))
  if (length(labs) == 0L) return(NULL)
  out <- rep(list(bs), length(labs))
  names(out) <- labs
  out
}

predict.MXFeedForwardModel <- function(object, X, ctx = NULL, array.batch.size = 128,
                                       array.layout = "auto", ...) {
  .mx.model.check(object)
  ctx <- .mx.model.ctx(ctx)
  X <- .mx.model.data(X, array.layout)
  d <- dim(X)
  n <- d[length(d)]
  if (!is.numeric(array.batch.size) || length(array.batch.size) != 1L || array.batch.size < 1) {
    stop("array.batch.size must be a number >= 1", call. = FALSE)
  }
  bs <- as.integer(min(array.batch.size, n))
  data.dims <- c(d[-length(d)], bs)
  # Label inputs (loss heads) get their shapes from the data when they can; else from the batch.
  shapes <- tryCatch(.mx.model.infer(object$symbol, data.dims),
                     error = function(e) .mx.model.infer(object$symbol, data.dims,
                                                         .mx.model.label.dims(object$symbol, bs)))
  b <- tryCatch(.mx.model.bind(object$symbol, ctx, shapes, object$arg.params, object$aux.params),
                error = function(e) {
                  stop("the data (dims c(", paste(d, collapse = ", "), ")) do not fit the model: ",
                       conditionMessage(e), call. = FALSE)
                })
  data.arr <- b$args[["data"]]
  pieces <- list()
  out.dims <- NULL
  for (start in seq(1L, n, by = bs)) {
    idx <- start:min(start + bs - 1L, n)
    k <- length(idx)
    if (k < bs) idx <- c(idx, rep(idx[k], bs - k))  # pad the last batch
    .Call(C_mxr_nd_copy_from_r, data.arr, .mx.model.batch(X, idx))
    .Call(C_mxr_exec_forward, b$exec, FALSE)
    out <- .Call(C_mxr_exec_arrays, b$exec, 3L)[[1L]]
    o <- as.array(out)
    od <- dim(o)
    if (is.null(od)) od <- length(o)
    out.dims <- od
    dim(o) <- c(length(o) / od[length(od)], od[length(od)])
    pieces[[length(pieces) + 1L]] <- o[, seq_len(k), drop = FALSE]
  }
  res <- do.call(cbind, pieces)
  if (length(out.dims) <= 2L) {
    if (length(out.dims) == 1L) return(as.vector(res))
    return(res)
  }
  array(res, dim = c(out.dims[-length(out.dims)], n))
}

# ---- training

mx.model.FeedForward.create <- function(symbol, X, y, ctx = NULL, begin.round = 1,
                                        num.round = 10, optimizer = "sgd",
                                        initializer = mx.init.uniform(0.07),
                                        eval.data = NULL, eval.metric = mx.metric.accuracy,
                                        epoch.end.callback = NULL, batch.end.callback = NULL,
                                        array.batch.size = 128, array.layout = "auto",
                                        kvstore = "local", verbose = TRUE, arg.params = NULL,
                                        aux.params = NULL, shuffle = TRUE, ...) {
  .mx.model.check.sym(symbol)
  ctx <- .mx.model.ctx(ctx)
  if (missing(y) || is.null(y)) stop("y (the labels) is required", call. = FALSE)
  if (is.MXNDArray(y)) y <- as.array(y)
  if (!(is.numeric(y) || is.logical(y) || is.factor(y))) {
    stop("y must be numeric (got ", class(y)[1L], ")", call. = FALSE)
  }
  if (is.factor(y)) y <- as.integer(y) - 1L
  y <- as.double(y)
  if (anyNA(y)) stop("y contains NA values", call. = FALSE)
  X <- .mx.model.data(X, array.layout, length(y))
  d <- dim(X)
  n <- d[length(d)]
  if (n != length(y)) {
    stop(sprintf("X has %d samples (its last dim) but y has %d labels", n, length(y)),
         call. = FALSE)
  }
  if (!is.numeric(num.round) || length(num.round) != 1L || num.round < begin.round) {
    stop("num.round must be a number >= begin.round", call. = FALSE)
  }
  if (!is.numeric(array.batch.size) || length(array.batch.size) != 1L || array.batch.size < 1) {
    stop("array.batch.size must be a number >= 1", call. = FALSE)
  }
  if (!is.function(initializer)) stop("initializer must be an initializer (mx.init.*)",
                                      call. = FALSE)
  if (!is.null(eval.metric) && !inherits(eval.metric, "MXMetric")) {
    stop("eval.metric must be an MXMetric (mx.metric.*)", call. = FALSE)
  }
  bs <- as.integer(min(array.batch.size, n))
  opt.args <- list(...)
  if (is.character(optimizer)) {
    if (is.null(opt.args$rescale.grad)) opt.args$rescale.grad <- 1 / bs
    optimizer <- do.call(mx.opt.create, c(list(optimizer), opt.args))
  } else if (!inherits(optimizer, "MXOptimizer")) {
    stop("optimizer must be a name (\"sgd\", \"adam\") or an MXOptimizer", call. = FALSE)
  } else if (length(opt.args)) {
    stop("unused argument(s): ", paste(names(opt.args), collapse = ", "), call. = FALSE)
  }

  label.names <- Filter(.mx.model.is.label, .mx.model.args(symbol))
  if (length(label.names) != 1L) {
    stop("the symbol must have exactly one label input (an argument named \"*label\"); it has ",
         length(label.names), call. = FALSE)
  }
  data.dims <- c(d[-length(d)], bs)
  shapes <- .mx.model.infer(symbol, data.dims)
  args <- .mx.model.args(symbol)
  param.names <- args[!(args == "data" | .mx.model.is.label(args))]
  # Parameters: given ones kept, the others from the initializer.
  init.args <- mx.init.create(initializer, shapes$arg.shapes[param.names], ctx)
  if (!is.null(arg.params)) init.args[names(arg.params)] <- arg.params
  aux.names <- .mx.model.auxs(symbol)
  init.aux <- mx.init.create(initializer, shapes$aux.shapes[aux.names], ctx)
  if (!is.null(aux.params)) init.aux[names(aux.params)] <- aux.params
  b <- .mx.model.bind(symbol, ctx, shapes, init.args, init.aux, grad.names = param.names)
  data.arr <- b$args[["data"]]
  label.arr <- b$args[[label.names]]
  if (length(label.arr) != bs) {
    stop(sprintf("the label input \"%s\" takes %d values per batch of %d samples", label.names,
                 length(label.arr), bs), call. = FALSE)
  }
  weights <- b$args[param.names]
  grads <- b$grads[match(param.names, b$names)]
  updater <- mx.opt.get.updater(optimizer, weights)
  model <- structure(list(symbol = symbol, arg.params = weights, aux.params = b$aux),
                     class = "MXFeedForwardModel")
  env <- new.env(parent = emptyenv())
  env$model <- model
  env$metric <- eval.metric

  run.metric <- function(state, out, idx.label, k) {
    if (is.null(eval.metric)) return(state)
    lab <- mx.nd.array(idx.label[seq_len(k)], ctx, copy = TRUE)
    pred <- if (k < bs) .Call(C_mxr_nd_slice, out, 0, k) else out
    eval.metric$update(lab, pred, state)
  }

  nb <- ceiling(n / bs)
  for (iteration in begin.round:num.round) {
    order <- if (shuffle) sample.int(n) else seq_len(n)
    state <- if (!is.null(eval.metric)) eval.metric$init()
    stop.now <- FALSE
    for (nbatch in seq_len(nb)) {
      pos <- (nbatch - 1L) * bs + seq_len(bs)
      k <- sum(pos <= n)
      idx <- order[(pos - 1L) %% n + 1L]  # the last batch wraps around
      .Call(C_mxr_nd_copy_from_r, data.arr, .mx.model.batch(X, idx))
      .Call(C_mxr_nd_copy_from_r, label.arr, y[idx])
      .Call(C_mxr_exec_forward, b$exec, TRUE)
      .Call(C_mxr_exec_backward, b$exec, NULL)
      updater(weights, grads)
      out <- .Call(C_mxr_exec_arrays, b$exec, 3L)[[1L]]
      state <- run.metric(state, out, y[idx], k)
      if (!is.null(batch.end.callback)) {
        env$train.metric <- if (!is.null(eval.metric)) eval.metric$get(state)
        env$iteration <- iteration
        env$nbatch <- nbatch
        if (identical(batch.end.callback(iteration, nbatch, env, verbose), FALSE)) {
          stop.now <- TRUE
          break
        }
      }
    }
    env$train.metric <- if (!is.null(eval.metric)) eval.metric$get(state)
    if (verbose && !is.null(eval.metric)) {
      message(sprintf("[%d] Train-%s=%g", iteration, env$train.metric$name,
                      env$train.metric$value))
    }
    env$eval.metric <- NULL
    if (!is.null(eval.data)) {
      if (!is.list(eval.data) || is.null(eval.data$data) || is.null(eval.data$label)) {
        stop("eval.data must be list(data = X, label = y)", call. = FALSE)
      }
      pred <- predict(model, eval.data$data, ctx = ctx, array.batch.size = bs,
                      array.layout = array.layout)
      if (!is.null(eval.metric)) {
        es <- eval.metric$update(mx.nd.array(as.double(eval.data$label), ctx, copy = TRUE),
                                 mx.nd.array(pred, ctx, copy = TRUE), eval.metric$init())
        env$eval.metric <- eval.metric$get(es)
        if (verbose) message(sprintf("[%d] Validation-%s=%g", iteration, env$eval.metric$name,
                                     env$eval.metric$value))
      }
    }
    env$iteration <- iteration
    env$nbatch <- nb
    if (stop.now) break
    if (!is.null(epoch.end.callback) &&
        identical(epoch.end.callback(iteration, 0L, env, verbose), FALSE)) break
  }
  mx.nd.waitall()
  model
}

# ---- multi-layer perceptron

.mx.model.sym.op <- function(op, inputs, params = list(), name = NULL) {
  p <- .mx.params(params)
  .Call(C_mxr_sym_create, op, p$keys, p$vals, inputs, name)
}

mx.mlp <- function(data, label, hidden_node = 1, out_node, dropout = NULL,
                   activation = "tanh", out_activation = "softmax", ...) {
  if (missing(out_node)) stop("out_node (the number of outputs) is required", call. = FALSE)
  if (!is.numeric(hidden_node) || any(hidden_node < 1) || anyNA(hidden_node)) {
    stop("hidden_node must be a vector of layer sizes >= 1", call. = FALSE)
  }
  if (!is.null(dropout) && (!is.numeric(dropout) || length(dropout) != 1L || dropout < 0 ||
                            dropout >= 1)) {
    stop("dropout must be NULL or a single number in [0, 1)", call. = FALSE)
  }
  m <- length(hidden_node)
  if (length(activation) == 1L) activation <- rep(activation, m)
  if (length(activation) != m) stop("give one activation, or one per hidden layer", call. = FALSE)
  out_activation <- match.arg(out_activation, c("softmax", "rmse", "logistic"))
  x <- .Call(C_mxr_sym_variable, "data")
  for (i in seq_len(m)) {
    x <- .mx.model.sym.op("FullyConnected", list(data = x), list(num_hidden = hidden_node[i]),
                    paste0("fc", i))
    x <- .mx.model.sym.op("Activation", list(data = x), list(act_type = activation[i]),
                    paste0("activation", i))
    if (!is.null(dropout)) {
      x <- .mx.model.sym.op("Dropout", list(data = x), list(p = dropout), paste0("dropout", i))
    }
  }
  x <- .mx.model.sym.op("FullyConnected", list(data = x), list(num_hidden = out_node),
                  paste0("fc", m + 1L))
  lab <- .Call(C_mxr_sym_variable, "label")
  out <- switch(out_activation,
    softmax = .mx.model.sym.op("SoftmaxOutput", list(data = x, label = lab), list(), "sm"),
    rmse = .mx.model.sym.op("LinearRegressionOutput", list(data = x, label = lab), list(), "lro"),
    logistic = .mx.model.sym.op("LogisticRegressionOutput", list(data = x, label = lab), list(),
                          "lro"))
  mx.model.FeedForward.create(out, X = data, y = label, ...)
}
