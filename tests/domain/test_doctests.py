"""The worked examples in the domain docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "tansuan.domain.units",
    "tansuan.domain.gases",
    "tansuan.domain.combustion",
    "tansuan.domain.catalog",
    "tansuan.domain.result",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    failures, _ = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert failures == 0
