# Automatic differentiation: libmx records the ops run on marked arrays while recording is on
# (per thread: R's main thread) and computes gradients on backward.
#
#   x <- mx.nd.array(...); mx.nd.attach.grad(x)
#   y <- mx.autograd.record(mx.nd.sum(x * x))
#   mx.autograd.backward(y); mx.nd.grad(x)

.mx.check.flag <- function(x, what) {
  if (!is.logical(x) || length(x) != 1L || is.na(x)) stop(what, " must be TRUE or FALSE",
                                                          call. = FALSE)
  x
}

mx.autograd.set.recording <- function(is.recording) {
  .Call(C_mxr_ag_set_recording, .mx.check.flag(is.recording, "is.recording"))
}

mx.autograd.is.recording <- function() .Call(C_mxr_ag_is_recording)

mx.autograd.set.training <- function(train.mode) {
  .Call(C_mxr_ag_set_training, .mx.check.flag(train.mode, "train.mode"))
}

mx.autograd.is.training <- function() .Call(C_mxr_ag_is_training)

# Evaluates expr (in the caller's frame) with recording / training set, restoring both after.
.mx.autograd.scope <- function(recording, training, expr) {
  force(recording)
  force(training)
  prev.rec <- NULL
  prev.train <- NULL
  on.exit({
    if (!is.null(prev.train)) .Call(C_mxr_ag_set_training, prev.train)
    if (!is.null(prev.rec)) .Call(C_mxr_ag_set_recording, prev.rec)
  })
  if (!is.null(recording)) prev.rec <- .Call(C_mxr_ag_set_recording, recording)
  if (!is.null(training)) prev.train <- .Call(C_mxr_ag_set_training, training)
  expr
}

mx.autograd.record <- function(expr, train.mode = TRUE) {
  .mx.autograd.scope(TRUE, .mx.check.flag(train.mode, "train.mode"), expr)
}

mx.autograd.pause <- function(expr, train.mode = FALSE) {
  .mx.autograd.scope(FALSE, .mx.check.flag(train.mode, "train.mode"), expr)
}

mx.autograd.train.mode <- function(expr) .mx.autograd.scope(NULL, TRUE, expr)

mx.autograd.predict.mode <- function(expr) .mx.autograd.scope(NULL, FALSE, expr)

.mx.nd.list <- function(x, what) {
  if (is.MXNDArray(x)) x <- list(x)
  if (!is.list(x) || length(x) == 0L) stop(what, " must be an MXNDArray or a list of them",
                                           call. = FALSE)
  for (i in seq_along(x)) .mx.check.ndarray(x[[i]], sprintf("%s[[%d]]", what, i))
  unname(x)
}

mx.autograd.mark.variables <- function(variables, gradients, grad.reqs = "write") {
  variables <- .mx.nd.list(variables, "variables")
  gradients <- .mx.nd.list(gradients, "gradients")
  if (length(variables) != length(gradients)) {
    stop(sprintf("%d variables but %d gradient arrays", length(variables), length(gradients)),
         call. = FALSE)
  }
  for (i in seq_along(variables)) {
    if (!identical(dim(variables[[i]]), dim(gradients[[i]]))) {
      stop(sprintf("gradients[[%d]] has dims %s, its variable %s", i,
                   paste(dim(gradients[[i]]), collapse = "x"),
                   paste(dim(variables[[i]]), collapse = "x")), call. = FALSE)
    }
  }
  .mx.check.grad.req(grad.reqs)
  invisible(.Call(C_mxr_ag_mark_variables, variables, grad.reqs, gradients))
}

mx.nd.attach.grad <- function(x, grad.req = "write") {
  .mx.check.ndarray(x)
  .mx.check.grad.req(grad.req)
  if (length(grad.req) != 1L) stop("grad.req must be a single value", call. = FALSE)
  g <- .mx.invoke1("zeros_like", list(x))
  .Call(C_mxr_ag_mark_variables, list(x), grad.req, list(g))
  invisible(x)
}

mx.nd.grad <- function(x) {
  .mx.check.ndarray(x)
  .Call(C_mxr_nd_get_grad, x)
}

mx.nd.detach <- function(x) {
  .mx.check.ndarray(x)
  .Call(C_mxr_nd_detach, x)
}

.mx.head.grads <- function(head.grads, n) {
  if (is.null(head.grads)) return(NULL)
  if (is.MXNDArray(head.grads)) head.grads <- list(head.grads)
  if (!is.list(head.grads) || length(head.grads) != n) {
    stop(sprintf("head.grads must be a list of %d MXNDArrays (NULL entries: ones)", n),
         call. = FALSE)
  }
  unname(head.grads)
}

mx.autograd.backward <- function(heads, head.grads = NULL, retain.graph = FALSE,
                                 train.mode = TRUE) {
  heads <- .mx.nd.list(heads, "heads")
  invisible(.Call(C_mxr_ag_backward, heads, .mx.head.grads(head.grads, length(heads)),
                  .mx.check.flag(retain.graph, "retain.graph"), FALSE,
                  .mx.check.flag(train.mode, "train.mode")))
}

mx.nd.backward <- function(x, out.grad = NULL, retain.graph = FALSE, train.mode = TRUE) {
  mx.autograd.backward(x, out.grad, retain.graph, train.mode)
}

mx.autograd.grad <- function(heads, variables, head.grads = NULL, retain.graph = FALSE,
                             create.graph = FALSE, train.mode = TRUE) {
  heads <- .mx.nd.list(heads, "heads")
  single <- is.MXNDArray(variables)
  variables <- .mx.nd.list(variables, "variables")
  res <- .Call(C_mxr_ag_grad, heads, .mx.head.grads(head.grads, length(heads)), variables,
               .mx.check.flag(retain.graph, "retain.graph"),
               .mx.check.flag(create.graph, "create.graph"),
               .mx.check.flag(train.mode, "train.mode"))
  if (single) res[[1L]] else res
}
