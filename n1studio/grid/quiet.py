"""Silence pandapower while it works: its converters and solvers are chatty (pandas
FutureWarnings, info logs); users see our own errors and statuses instead."""

from __future__ import annotations

import contextlib
import logging
import warnings


@contextlib.contextmanager
def quiet_pandapower(level: int = logging.ERROR):
    """Ignore warnings and raise pandapower's log level to `level` for the block."""
    logger = logging.getLogger("pandapower")
    saved = logger.level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logger.setLevel(level)
        try:
            yield
        finally:
            logger.setLevel(saved)
