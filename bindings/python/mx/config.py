"""Where this package keeps libmx and its C / C++ headers, for programs that link libmx.

    python -m mx.config --includedir    the folder holding mx/c_api.h, mx/c_predict_api.h, mx/mx.hpp
    python -m mx.config --libdir        the folder holding libmx.so (and the libraries it bundles)
    python -m mx.config --cmakedir      the folder holding mxConfig.cmake: for CMake,
                                        CMAKE_PREFIX_PATH=$(python -m mx.config --cmakedir), then
                                        find_package(mx CONFIG) and target_link_libraries(app mx::mx)
    python -m mx.config --pkgconfigdir  the folder holding mx.pc (for PKG_CONFIG_PATH)
    python -m mx.config --prefix        the root of the layout (lib/, include/)
    python -m mx.config --cflags        compiler flags: -I<includedir>
    python -m mx.config --libs          linker flags: -L<libdir> -lmx -Wl,-rpath,<libdir> (the rpath
                                        lets the program find libmx inside the Python package)

Several options print one line each, in the order given. The layout is the same in the wheel
(site-packages/mx/{lib,include}) and in the source tree after a build with
-DMX_BUILD_PYTHON=ON -DMX_DEV_INPLACE=ON (bindings/python/mx/{lib,include}). A missing part of it is
an error naming what is missing (exit status 1).

This module reads no libmx state: the same functions are importable as ``mx.config.get_include()``
and so on.
"""
import argparse
import os
import shlex
import sys

__all__ = ["get_prefix", "get_include", "get_lib_dir", "get_cmake_dir", "get_pkgconfig_dir",
           "get_cflags", "get_libs", "main"]

_ROOT = os.path.dirname(os.path.abspath(__file__))
_LIB_NAME = "libmx.so" if not sys.platform.startswith("darwin") else "libmx.dylib"
_HINT = ("this mx package has no C/C++ development files; a wheel has them, and a source tree gets "
         "them from a build with -DMX_BUILD_PYTHON=ON -DMX_DEV_INPLACE=ON")


def _require(path, what):
    if not os.path.exists(path):
        raise FileNotFoundError("mx.config: %s not found (%s): %s" % (what, path, _HINT))
    return path


def get_prefix():
    """The root of the layout: <root>/lib/libmx.so, <root>/include/mx/, <root>/lib/cmake/mx."""
    return _ROOT


def get_include():
    """The folder to put on the include path (it holds mx/c_api.h, mx/c_predict_api.h, mx/mx.hpp)."""
    inc = os.path.join(_ROOT, "include")
    _require(os.path.join(inc, "mx", "c_api.h"), "mx/c_api.h")
    return inc


def get_lib_dir():
    """The folder holding libmx (link with -L<it> -lmx)."""
    lib = os.path.join(_ROOT, "lib")
    _require(os.path.join(lib, _LIB_NAME), _LIB_NAME)
    return lib


def get_cmake_dir():
    """The folder holding mxConfig.cmake (CMAKE_PREFIX_PATH or mx_DIR for find_package(mx))."""
    d = os.path.join(_ROOT, "lib", "cmake", "mx")
    _require(os.path.join(d, "mxConfig.cmake"), "mxConfig.cmake")
    get_lib_dir()
    get_include()
    return d


def get_pkgconfig_dir():
    """The folder holding mx.pc (for PKG_CONFIG_PATH)."""
    d = os.path.join(_ROOT, "lib", "pkgconfig")
    _require(os.path.join(d, "mx.pc"), "mx.pc")
    return d


def get_cflags():
    """Compiler flags for a C or C++ program using mx's headers."""
    return "-I" + shlex.quote(get_include())


def get_libs():
    """Linker flags for a program linking libmx, with an rpath to this package's lib folder."""
    lib = shlex.quote(get_lib_dir())
    return "-L%s -lmx -Wl,-rpath,%s" % (lib, lib)


_QUERIES = {
    "prefix": get_prefix,
    "includedir": get_include,
    "libdir": get_lib_dir,
    "cmakedir": get_cmake_dir,
    "pkgconfigdir": get_pkgconfig_dir,
    "cflags": get_cflags,
    "libs": get_libs,
}


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m mx.config",
        description="Print where mx keeps libmx and its C/C++ headers (one line per option, in order).")
    for name, fn in _QUERIES.items():
        parser.add_argument("--" + name, dest="queries", action="append_const", const=name,
                            help=fn.__doc__.strip().splitlines()[0])
    args = parser.parse_args(argv)
    if not args.queries:
        parser.print_help(sys.stderr)
        return 2
    try:
        lines = [_QUERIES[q]() for q in args.queries]
    except FileNotFoundError as e:
        print(str(e), file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
