# Contexts: where arrays live. MXNet numbering: device_typeid 1 cpu, 2 gpu, 3 cpu_pinned.

.mx.context <- function(device, typeid, dev.id) {
  if (!is.numeric(dev.id) || length(dev.id) != 1L || is.na(dev.id) || dev.id < 0 ||
      dev.id != round(dev.id)) {
    stop("dev.id must be a single whole number >= 0", call. = FALSE)
  }
  structure(list(device = device, device_id = as.integer(dev.id), device_typeid = typeid),
            class = "MXContext")
}

mx.cpu <- function(dev.id = 0L) .mx.context("cpu", 1L, dev.id)

mx.gpu <- function(dev.id = 0L) .mx.context("gpu", 2L, dev.id)

is.mx.context <- function(x) inherits(x, "MXContext")

mx.gpu.count <- function() .Call(C_mxr_gpu_count)

mx.ctx.default <- function(new = NULL) {
  if (!is.null(new)) {
    if (!is.mx.context(new)) stop("new must be a context: mx.cpu() or mx.gpu()", call. = FALSE)
    .mx.env$ctx <- new
  }
  if (is.null(.mx.env$ctx)) .mx.env$ctx <- mx.cpu()
  .mx.env$ctx
}

# c(typeid, id) of a context argument (NULL: the default context).
.mx.ctx.ids <- function(ctx) {
  if (is.null(ctx)) ctx <- mx.ctx.default()
  if (!is.mx.context(ctx)) stop("ctx must be a context: mx.cpu() or mx.gpu()", call. = FALSE)
  c(ctx$device_typeid, ctx$device_id)
}

.mx.ctx.from.ids <- function(ids) {
  switch(as.character(ids[1L]),
         "1" = mx.cpu(ids[2L]),
         "2" = mx.gpu(ids[2L]),
         "3" = .mx.context("cpu_pinned", 3L, ids[2L]),
         .mx.context("unknown", ids[1L], ids[2L]))
}

print.MXContext <- function(x, ...) {
  cat(format(x), "\n", sep = "")
  invisible(x)
}

format.MXContext <- function(x, ...) paste0(x$device, "(", x$device_id, ")")
