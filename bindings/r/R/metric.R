# Evaluation metrics. A metric is a list of class "MXMetric":
#   $init()                        a fresh state
#   $update(label, pred, state)    the new state after one batch (label, pred: MXNDArrays, samples
#                                  in the last R dim; per-batch sums are computed by libmx ops)
#   $get(state)                    list(name =, value =)
# mx.metric.custom(name, feval) wraps feval(label, pred) on R arrays (a per-batch value, averaged
# over the batches).

.mx.metric.new <- function(name, update) {
  structure(list(
    name = name,
    init = function() list(sum = 0, num = 0),
    update = update,
    get = function(state) list(name = name, value = if (state$num > 0) state$sum / state$num
                                                      else NaN)),
    class = "MXMetric")
}

.mx.metric.args <- function(label, pred) {
  if (!is.MXNDArray(label)) label <- mx.nd.array(label)
  if (!is.MXNDArray(pred)) pred <- mx.nd.array(pred)
  list(label = label, pred = pred)
}

.mx.metric.scalar <- function(x) as.double(as.array(x))[1L]

# n samples: the last R dim of pred (NDArray axis 0)
.mx.metric.n <- function(pred) {
  d <- dim(pred)
  if (length(d) == 0L) 1 else d[length(d)]
}

mx.metric.accuracy <- .mx.metric.new("accuracy", function(label, pred, state) {
  a <- .mx.metric.args(label, pred)
  pred <- a$pred
  label <- a$label
  if (length(dim(pred)) > length(dim(label))) {
    cls <- .mx.invoke1("argmax", list(pred), list(axis = -1L))
  } else {
    cls <- .mx.invoke1("round", list(pred))
  }
  label <- .Call(C_mxr_nd_reshape, label, dim(cls))
  if (mx.nd.dtype(label) != mx.nd.dtype(cls)) label <- mx.nd.array(label, dtype = mx.nd.dtype(cls))
  hits <- .mx.invoke1("sum", list(.mx.invoke1("broadcast_equal", list(cls, label))))
  state$sum <- state$sum + .mx.metric.scalar(hits)
  state$num <- state$num + length(cls)
  state
})

.mx.metric.err <- function(label, pred, op) {
  a <- .mx.metric.args(label, pred)
  label <- .Call(C_mxr_nd_reshape, a$label, dim(a$pred))
  if (mx.nd.dtype(label) != mx.nd.dtype(a$pred)) {
    label <- mx.nd.array(label, dtype = mx.nd.dtype(a$pred))
  }
  diff <- .mx.invoke1("broadcast_sub", list(a$pred, label))
  list(total = .mx.metric.scalar(.mx.invoke1("sum", list(.mx.invoke1(op, list(diff))))),
       n = length(a$pred))
}

mx.metric.mae <- .mx.metric.new("mae", function(label, pred, state) {
  e <- .mx.metric.err(label, pred, "abs")
  state$sum <- state$sum + e$total
  state$num <- state$num + e$n
  state
})

mx.metric.mse <- .mx.metric.new("mse", function(label, pred, state) {
  e <- .mx.metric.err(label, pred, "square")
  state$sum <- state$sum + e$total
  state$num <- state$num + e$n
  state
})

mx.metric.rmse <- local({
  m <- mx.metric.mse
  m$name <- "rmse"
  m$get <- function(state) list(name = "rmse", value = if (state$num > 0) sqrt(state$sum / state$num)
                                                      else NaN)
  m
})

mx.metric.custom <- function(name, feval) {
  if (!is.character(name) || length(name) != 1L) stop("name must be a string", call. = FALSE)
  if (!is.function(feval)) stop("feval must be a function(label, pred)", call. = FALSE)
  force(feval)
  .mx.metric.new(name, function(label, pred, state) {
    if (is.MXNDArray(label)) label <- as.array(label)
    if (is.MXNDArray(pred)) pred <- as.array(pred)
    v <- feval(label, pred)
    if (!is.numeric(v) || length(v) != 1L) {
      stop("metric ", name, ": feval must return a single number", call. = FALSE)
    }
    state$sum <- state$sum + v
    state$num <- state$num + 1
    state
  })
}

# A record of metric values per epoch (filled by mx.callback.log.train.metric).
mx.metric.logger <- function() {
  env <- new.env(parent = emptyenv())
  env$train <- numeric(0)
  env$eval <- numeric(0)
  class(env) <- "MXMetricLogger"
  env
}
