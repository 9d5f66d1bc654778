# Load hooks. Other files register work for load time by defining functions named
# .mx.onload.<something>(ns) -- they run in name order after the DLL is loaded (e.g. the op
# generator, which defines mx.nd.<Op> and mx.symbol.<Op> from the registry of libmx).

.onLoad <- function(libname, pkgname) {
  ns <- topenv(environment())
  hooks <- sort(ls(ns, pattern = "^\\.mx\\.onload\\.", all.names = TRUE))
  for (h in hooks) get(h, envir = ns)(ns)
}

# The DLL is never unloaded: finalizers of live handles point into it.
