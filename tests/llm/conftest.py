"""Fixtures for the model runtime tests: the real default model and one shared worker."""

from __future__ import annotations

import pytest

from n1studio.grid.cases import load_case
from n1studio.llm.client import ModelClient
from n1studio.llm.runtime import ModelSettings, default_model_path


@pytest.fixture(scope="session")
def default_model():
    return default_model_path()


@pytest.fixture(scope="module")
def client(default_model):
    c = ModelClient(ModelSettings())
    yield c
    c.close()


@pytest.fixture(scope="session")
def case14():
    return load_case("case14")
