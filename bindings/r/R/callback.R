# Callbacks of mx.model.FeedForward.create. A callback is function(iteration, nbatch, env,
# verbose) called after each batch (batch.end.callback) or epoch (epoch.end.callback); returning
# FALSE stops the training. env holds: model (the current MXFeedForwardModel), metric (the eval
# metric), train.metric (list(name, value) of the epoch so far), eval.metric (likewise, on
# eval.data, at the end of an epoch; NULL without eval.data), iteration, nbatch.

mx.callback.log.train.metric <- function(period = 1, logger = NULL) {
  if (!is.numeric(period) || length(period) != 1L || period < 1) {
    stop("period must be a number >= 1", call. = FALSE)
  }
  if (!is.null(logger) && !inherits(logger, "MXMetricLogger")) {
    stop("logger must come from mx.metric.logger()", call. = FALSE)
  }
  function(iteration, nbatch, env, verbose = TRUE) {
    if (nbatch %% period == 0 && !is.null(env$train.metric)) {
      v <- env$train.metric
      if (verbose) message(sprintf("Batch [%d] Train-%s=%g", nbatch, v$name, v$value))
      if (!is.null(logger)) {
        logger$train <- c(logger$train, v$value)
        if (!is.null(env$eval.metric)) logger$eval <- c(logger$eval, env$eval.metric$value)
      }
    }
    TRUE
  }
}

mx.callback.save.checkpoint <- function(prefix, period = 1) {
  if (!is.character(prefix) || length(prefix) != 1L) stop("prefix must be a string", call. = FALSE)
  if (!is.numeric(period) || length(period) != 1L || period < 1) {
    stop("period must be a number >= 1", call. = FALSE)
  }
  function(iteration, nbatch, env, verbose = TRUE) {
    if (iteration %% period == 0) {
      mx.model.save(env$model, prefix, iteration)
      if (verbose) message(sprintf("Model checkpoint saved to %s-%04d.params", prefix, iteration))
    }
    TRUE
  }
}

mx.callback.early.stop <- function(train.metric = NULL, eval.metric = NULL, bad.steps = NULL,
                                   maximize = FALSE) {
  best <- if (maximize) -Inf else Inf
  bad <- 0
  function(iteration, nbatch, env, verbose = TRUE) {
    better <- function(v, lim) if (maximize) v >= lim else v <= lim
    if (!is.null(train.metric) && !is.null(env$train.metric) &&
        better(env$train.metric$value, train.metric)) return(FALSE)
    if (!is.null(env$eval.metric)) {
      v <- env$eval.metric$value
      if (!is.null(eval.metric) && better(v, eval.metric)) return(FALSE)
      if (!is.null(bad.steps)) {
        if ((maximize && v > best) || (!maximize && v < best)) {
          best <<- v
          bad <<- 0
        } else {
          bad <<- bad + 1
          if (bad >= bad.steps) return(FALSE)
        }
      }
    }
    TRUE
  }
}
