"""The checker's tolerances: re-exported from `n1studio.grid.tolerances`, their one home.

The sweep (n1studio.solve.sweep) uses the same numbers; see the table below.
"""

from __future__ import annotations

from n1studio.grid import tolerances as grid_tolerances
from n1studio.grid.tolerances import Tolerances

__doc__ = grid_tolerances.__doc__
__all__ = ["Tolerances"]
