# Optimizers over libmx's fused update ops (sgd_update, sgd_mom_update, adam_update): every step
# is one op call that writes the weight (and its state arrays) in place.
#
# An optimizer is a list of class "MXOptimizer":
#   $name
#   $config          environment of the hyper-parameters (learning.rate, wd, rescale.grad, ...);
#                    the trainer changes rescale.grad there
#   $create.state(index, weight)          the state arrays of one weight (NULL for plain SGD)
#   $update(index, weight, grad, state)   one step in place; returns the (same) state
# mx.opt.get.updater(optimizer, weights) gives function(weights, grads) that steps every weight
# (NULL grads are skipped) and keeps the states.

.mx.opt.num <- function(x, what, min = -Inf) {
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || x < min) {
    stop(what, " must be a single number", if (is.finite(min)) paste0(" >= ", min), call. = FALSE)
  }
  as.numeric(x)
}

.mx.opt.new <- function(name, config, create.state, update) {
  structure(list(name = name, config = config, create.state = create.state, update = update),
            class = "MXOptimizer")
}

.mx.opt.lr <- function(cfg) {
  if (is.function(cfg$lr_scheduler)) {
    cfg$learning.rate <- .mx.opt.num(cfg$lr_scheduler(cfg$num.update), "lr_scheduler's value", 0)
  }
  cfg$learning.rate
}

mx.opt.sgd <- function(learning.rate = 0.01, momentum = 0, wd = 0, rescale.grad = 1,
                       clip_gradient = -1, lr_scheduler = NULL) {
  cfg <- new.env(parent = emptyenv())
  cfg$learning.rate <- .mx.opt.num(learning.rate, "learning.rate", 0)
  cfg$momentum <- .mx.opt.num(momentum, "momentum", 0)
  cfg$wd <- .mx.opt.num(wd, "wd", 0)
  cfg$rescale.grad <- .mx.opt.num(rescale.grad, "rescale.grad")
  cfg$clip_gradient <- .mx.opt.num(clip_gradient, "clip_gradient")
  cfg$lr_scheduler <- lr_scheduler
  cfg$num.update <- 0
  create.state <- function(index, weight) {
    if (cfg$momentum == 0) return(NULL)
    mx.nd.zeros(dim(weight), mx.nd.context(weight), dtype = mx.nd.dtype(weight))
  }
  update <- function(index, weight, grad, state) {
    cfg$num.update <- cfg$num.update + 1
    p <- list(lr = .mx.opt.lr(cfg), wd = cfg$wd, rescale_grad = cfg$rescale.grad,
              clip_gradient = cfg$clip_gradient)
    if (is.null(state)) {
      .mx.invoke("sgd_update", list(weight, grad), p, out = list(weight))
    } else {
      p$momentum <- cfg$momentum
      .mx.invoke("sgd_mom_update", list(weight, grad, state), p, out = list(weight))
    }
    state
  }
  .mx.opt.new("sgd", cfg, create.state, update)
}

mx.opt.adam <- function(learning.rate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8,
                        wd = 0, rescale.grad = 1, clip_gradient = -1, lr_scheduler = NULL) {
  cfg <- new.env(parent = emptyenv())
  cfg$learning.rate <- .mx.opt.num(learning.rate, "learning.rate", 0)
  cfg$beta1 <- .mx.opt.num(beta1, "beta1", 0)
  cfg$beta2 <- .mx.opt.num(beta2, "beta2", 0)
  cfg$epsilon <- .mx.opt.num(epsilon, "epsilon", 0)
  cfg$wd <- .mx.opt.num(wd, "wd", 0)
  cfg$rescale.grad <- .mx.opt.num(rescale.grad, "rescale.grad")
  cfg$clip_gradient <- .mx.opt.num(clip_gradient, "clip_gradient")
  cfg$lr_scheduler <- lr_scheduler
  cfg$num.update <- 0
  create.state <- function(index, weight) {
    ctx <- mx.nd.context(weight)
    dt <- mx.nd.dtype(weight)
    env <- new.env(parent = emptyenv())
    env$mean <- mx.nd.zeros(dim(weight), ctx, dtype = dt)
    env$var <- mx.nd.zeros(dim(weight), ctx, dtype = dt)
    env$t <- 0
    env
  }
  update <- function(index, weight, grad, state) {
    cfg$num.update <- cfg$num.update + 1
    state$t <- state$t + 1
    # The step size with Adam's bias corrections (as MXNet's optimizer passes it to the op).
    lr <- .mx.opt.lr(cfg) * sqrt(1 - cfg$beta2^state$t) / (1 - cfg$beta1^state$t)
    .mx.invoke("adam_update", list(weight, grad, state$mean, state$var),
               list(lr = lr, beta1 = cfg$beta1, beta2 = cfg$beta2, epsilon = cfg$epsilon,
                    wd = cfg$wd, rescale_grad = cfg$rescale.grad,
                    clip_gradient = cfg$clip_gradient),
               out = list(weight))
    state
  }
  .mx.opt.new("adam", cfg, create.state, update)
}

mx.opt.create <- function(name, ...) {
  if (inherits(name, "MXOptimizer")) return(name)
  if (!is.character(name) || length(name) != 1L) {
    stop("optimizer must be a name (\"sgd\", \"adam\") or an MXOptimizer", call. = FALSE)
  }
  switch(name,
         sgd = mx.opt.sgd(...),
         adam = mx.opt.adam(...),
         stop("unknown optimizer \"", name, "\": use \"sgd\" or \"adam\"", call. = FALSE))
}

mx.opt.get.updater <- function(optimizer, weights) {
  if (!inherits(optimizer, "MXOptimizer")) stop("optimizer must be an MXOptimizer", call. = FALSE)
  states <- vector("list", length(weights))
  ready <- logical(length(weights))
  function(weights, grads) {
    if (length(grads) != length(weights)) {
      stop("updater: ", length(weights), " weights but ", length(grads), " gradients",
           call. = FALSE)
    }
    for (i in seq_along(weights)) {
      g <- grads[[i]]
      if (is.null(g)) next
      if (!ready[i]) {
        st <- optimizer$create.state(i, weights[[i]])
        if (!is.null(st)) states[[i]] <<- st
        ready[i] <<- TRUE
      }
      optimizer$update(i, weights[[i]], g, states[[i]])
    }
    invisible(weights)
  }
}
