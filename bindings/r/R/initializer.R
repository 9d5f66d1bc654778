# Initializers: how FeedForward.create and the Gluon-style API fill new parameters.
#
# An initializer is a function(name, shape, ctx) returning a new MXNDArray of R-order dims
# `shape` on `ctx` (float32). The parameter name decides the rule, as in MXNet: names ending in
# "bias", "beta", "moving_mean"/"running_mean" are zeros, "gamma", "moving_var"/"running_var" are
# ones, "weight" (and any other name) gets the initializer's random rule. Inputs ("data", names
# ending in "label") are never initialized. Random numbers come from libmx's samplers
# (mx.set.seed makes them reproducible).

.mx.init.kind <- function(name) {
  if (grepl("(^|[._])(bias|beta)$", name)) return("zeros")
  if (grepl("(moving|running)_mean$", name)) return("zeros")
  if (grepl("(^|[._])gamma$", name)) return("ones")
  if (grepl("(moving|running)_(var|inv_var)$", name)) return("ones")
  "random"
}

.mx.init.check.shape <- function(shape) {
  if (!is.numeric(shape) || length(shape) == 0L || anyNA(shape) || any(shape < 0) ||
      any(shape != round(shape))) {
    stop("shape must be a vector of whole numbers >= 0", call. = FALSE)
  }
  shape
}

.mx.init.filled <- function(kind, shape, ctx) {
  if (kind == "zeros") mx.nd.zeros(shape, ctx) else mx.nd.ones(shape, ctx)
}

.mx.init.rule <- function(random) {
  force(random)
  init <- function(name, shape, ctx = NULL) {
    if (!is.character(name) || length(name) != 1L) stop("name must be a string", call. = FALSE)
    .mx.init.check.shape(shape)
    if (is.null(ctx)) ctx <- mx.ctx.default()
    kind <- .mx.init.kind(name)
    if (kind != "random") return(.mx.init.filled(kind, shape, ctx))
    random(shape, ctx)
  }
  structure(init, class = c("MXInitializer", "function"))
}

.mx.init.uniform.array <- function(shape, ctx, scale) {
  .mx.invoke1("_random_uniform", list(),
              list(low = -scale, high = scale, shape = rev(shape), ctx = ctx, dtype = "float32"))
}

.mx.init.normal.array <- function(shape, ctx, sd) {
  .mx.invoke1("_random_normal", list(),
              list(loc = 0, scale = sd, shape = rev(shape), ctx = ctx, dtype = "float32"))
}

.mx.init.check.number <- function(x, what) {
  if (!is.numeric(x) || length(x) != 1L || !is.finite(x) || x < 0) {
    stop(what, " must be a single number >= 0", call. = FALSE)
  }
  as.numeric(x)
}

mx.init.uniform <- function(scale = 0.07) {
  scale <- .mx.init.check.number(scale, "scale")
  .mx.init.rule(function(shape, ctx) .mx.init.uniform.array(shape, ctx, scale))
}

mx.init.normal <- function(sd = 0.01) {
  sd <- .mx.init.check.number(sd, "sd")
  .mx.init.rule(function(shape, ctx) .mx.init.normal.array(shape, ctx, sd))
}

mx.init.Xavier <- function(rnd_type = "uniform", factor_type = "avg", magnitude = 3) {
  rnd_type <- match.arg(rnd_type, c("uniform", "gaussian"))
  factor_type <- match.arg(factor_type, c("avg", "in", "out"))
  magnitude <- .mx.init.check.number(magnitude, "magnitude")
  .mx.init.rule(function(shape, ctx) {
    nd <- rev(shape)  # NDArray order: (out, in, kernel...)
    if (length(nd) < 2L) {
      stop("Xavier needs a parameter with at least 2 dimensions", call. = FALSE)
    }
    hw <- if (length(nd) > 2L) prod(nd[-(1:2)]) else 1
    fan.in <- nd[2L] * hw
    fan.out <- nd[1L] * hw
    factor <- switch(factor_type, avg = (fan.in + fan.out) / 2, "in" = fan.in, out = fan.out)
    scale <- sqrt(magnitude / max(factor, 1))
    if (rnd_type == "uniform") .mx.init.uniform.array(shape, ctx, scale)
    else .mx.init.normal.array(shape, ctx, scale)
  })
}

mx.init.constant <- function(value) {
  if (!is.numeric(value) || length(value) != 1L || is.na(value)) {
    stop("value must be a single number", call. = FALSE)
  }
  .mx.init.rule(function(shape, ctx) {
    .mx.invoke1("_full", list(), list(shape = rev(shape), ctx = ctx, dtype = "float32",
                                      value = .mx.num.str(value)))
  })
}

# Arrays for every parameter of a named list of R-order shapes (as returned by infer shape):
# inputs ("data", "*label") are skipped.
mx.init.create <- function(initializer, shape.array, ctx = NULL, skip.unknown = TRUE) {
  if (!is.function(initializer)) stop("initializer must be an initializer function", call. = FALSE)
  if (length(shape.array) == 0L) return(list())
  nms <- names(shape.array)
  if (is.null(nms)) stop("shape.array must be a named list of shapes", call. = FALSE)
  out <- list()
  for (nm in nms) {
    if (skip.unknown && (nm == "data" || grepl("label$", nm))) next
    out[[nm]] <- initializer(nm, shape.array[[nm]], ctx)
  }
  out
}
