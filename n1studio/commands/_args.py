"""Arguments several commands share."""

from __future__ import annotations

import argparse


def add_variant_args(p: argparse.ArgumentParser) -> None:
    """CASE and repeatable --out ELEMENT: the variant a command works on."""
    p.add_argument("case", metavar="CASE", help="built-in case name or a .json / .m file")
    p.add_argument("--out", metavar="ELEMENT", action="append", default=[],
                   help="take ELEMENT out of service, e.g. line:3 (repeatable)")
