# Test helpers (shared by every testthat file of the package).
#
#   mx_fixture_dir()       the MXNet 1.9.1 fixture folder: $MX_FIXTURES_DIR, else
#                          shared/fixtures/mxnet-1.9.1 beside the repository (found by walking up
#                          from the working directory). Missing fixtures fail the test.
#   read_npy(path)         a .npy file as an R array in MXNet-R order (dim = rev(shape)); float16
#                          is decoded here, int64 becomes double
#   r_data_ptr(x)          the data address of an R vector (compare with mx.nd.data.ptr)

mx_fixture_dir <- function() {
  d <- Sys.getenv("MX_FIXTURES_DIR")
  if (nzchar(d) && file.exists(file.path(d, "manifest.json"))) return(d)
  dir <- normalizePath(getwd())
  repeat {
    cand <- file.path(dir, "shared", "fixtures", "mxnet-1.9.1")
    if (file.exists(file.path(cand, "manifest.json"))) return(cand)
    parent <- dirname(dir)
    if (parent == dir) break
    dir <- parent
  }
  stop("MXNet 1.9.1 fixture files not found: keep shared/fixtures/mxnet-1.9.1 beside the ",
       "repository or set MX_FIXTURES_DIR")
}

half_to_double <- function(bits) {
  sign <- ifelse(bitwAnd(bits, 0x8000L) != 0L, -1, 1)
  expo <- bitwShiftR(bitwAnd(bits, 0x7C00L), 10L)
  frac <- bitwAnd(bits, 0x03FFL)
  out <- ifelse(expo == 0L, sign * frac * 2^-24,
                ifelse(expo == 31L, ifelse(frac == 0L, sign * Inf, NaN),
                       sign * (1 + frac / 1024) * 2^(expo - 15)))
  out
}

read_npy <- function(path) {
  con <- file(path, "rb")
  on.exit(close(con))
  magic <- readBin(con, "raw", 6L)
  stopifnot(identical(magic[2:6], charToRaw("NUMPY")))
  major <- readBin(con, "integer", 1L, size = 1L, signed = FALSE)
  readBin(con, "integer", 1L, size = 1L, signed = FALSE)
  hlen <- if (major == 1L) {
    readBin(con, "integer", 1L, size = 2L, signed = FALSE, endian = "little")
  } else {
    readBin(con, "integer", 1L, size = 4L, endian = "little")
  }
  header <- rawToChar(readBin(con, "raw", hlen))
  descr <- sub(".*'descr': *'([^']+)'.*", "\\1", header)
  stopifnot(grepl("'fortran_order': *False", header))
  shape_str <- sub(".*'shape': *\\(([^)]*)\\).*", "\\1", header)
  shape <- as.numeric(strsplit(gsub(" ", "", shape_str), ",")[[1]])
  n <- if (length(shape)) prod(shape) else 1
  vals <- switch(descr,
    "<f4" = readBin(con, "double", n, size = 4L, endian = "little"),
    "<f8" = readBin(con, "double", n, size = 8L, endian = "little"),
    "<f2" = half_to_double(readBin(con, "integer", n, size = 2L, signed = FALSE,
                                   endian = "little")),
    "|u1" = readBin(con, "integer", n, size = 1L, signed = FALSE),
    "|i1" = readBin(con, "integer", n, size = 1L, signed = TRUE),
    "<i4" = {
      v <- as.numeric(readBin(con, "integer", n, size = 4L, endian = "little"))
      v[is.na(v)] <- -2^31  # INT_MIN is R's NA_integer_
      v
    },
    "<i8" = {
      w <- readBin(con, "integer", 2 * n, size = 4L, endian = "little")
      lo <- w[c(TRUE, FALSE)]
      hi <- w[c(FALSE, TRUE)]
      lo <- as.numeric(lo)
      hi <- as.numeric(hi)
      lo[is.na(lo)] <- -2^31
      hi[is.na(hi)] <- -2^31
      (lo + ifelse(lo < 0, 2^32, 0)) + hi * 2^32
    },
    stop("read_npy: unsupported dtype ", descr))
  if (length(shape) == 0L) return(as.numeric(vals))
  array(as.numeric(vals), dim = rev(shape))
}

r_data_ptr <- function(x) .Call(mx:::C_mxr_r_data_ptr, x)
