"""PyInstaller hook: CasADi opens its solvers as plugin libraries at run time.

`nlpsol("...", "ipopt", ...)` dlopens `libcasadi_nlpsol_ipopt.so` from the casadi folder;
the extension module's own dependencies (libcasadi) are found by PyInstaller, the plugin
is not. Only the plugins N-1 Studio uses are collected (the full wheel is 277 MB); their
dependencies (Ipopt, MUMPS, METIS, OpenBLAS, gfortran) follow by dependency analysis and
keep the package-relative layout the plugin's $ORIGIN rpath expects.
"""

from pathlib import Path

from PyInstaller.utils.hooks import get_package_paths

PLUGINS = ("nlpsol_ipopt",)

_, pkg_dir = get_package_paths("casadi")
binaries = []
for plugin in PLUGINS:
    for suffix in (".so", ".dylib", ".dll"):
        for prefix in ("lib", ""):
            lib = Path(pkg_dir) / f"{prefix}casadi_{plugin}{suffix}"
            if lib.is_file():
                binaries.append((str(lib), "casadi"))
if not binaries:
    raise SystemExit(f"casadi plugins {PLUGINS} not found in {pkg_dir}")
