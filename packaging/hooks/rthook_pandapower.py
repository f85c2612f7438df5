"""Runtime hook: let `pandapower.__init__` name the pandapower package in the bundle.

pandapower's network modules do `from pandapower.__init__ import pp_dir` and read their
JSON files from `pp_dir`. In a source install that imports `__init__.py` a second time as
a module whose folder is the package's. PyInstaller collects `pandapower.__init__` as a
package of its own, so `pp_dir` would point at a folder that does not exist and every
built-in case (case14, case118, ...) would fail to load. Resolving the name to the
already imported package gives pandapower the real `pp_dir`.
"""

import importlib.abc
import importlib.machinery
import sys


class _PandapowerInitAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    NAME = "pandapower.__init__"

    def find_spec(self, fullname, path=None, target=None):
        if fullname == self.NAME and "pandapower" in sys.modules:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec):
        return sys.modules["pandapower"]

    def exec_module(self, module):
        pass  # the package is already (being) initialised


sys.meta_path.insert(0, _PandapowerInitAlias())
