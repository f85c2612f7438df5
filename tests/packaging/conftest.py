"""Packaging tests: the `package` ones build the bundle and run only when asked for.

`make test-package` runs `pytest -m package tests/packaging`; a plain `pytest` (as in
`make test`) skips them, since building the bundle takes minutes.
"""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "package: builds the PyInstaller bundle (make test-package)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = "package" in (config.getoption("markexpr", "") or "") or os.environ.get(
        "N1STUDIO_TEST_PACKAGE") == "1"
    if wanted:
        return
    skip = pytest.mark.skip(reason="builds the bundle: run with `make test-package`")
    for item in items:
        if item.get_closest_marker("package") is not None:
            item.add_marker(skip)
