"""The answer checker: answer x variant -> `n1studio.verdict/1` (see verdict.py for the rules,
tolerances.py for the documented defaults)."""

from n1studio.check.tolerances import Tolerances
from n1studio.check.verdict import check_answer

__all__ = ["Tolerances", "check_answer"]
