"""The examples in the package's docstrings run and print what they say (on the installed package)."""

import doctest
import importlib
import pkgutil

import pytest

import neurofocus


def _modules_with_examples():
    names = []
    for info in pkgutil.walk_packages(neurofocus.__path__, "neurofocus."):
        spec = importlib.util.find_spec(info.name)
        source = spec.loader.get_source(info.name) if spec and spec.loader else None
        if source and ">>>" in source:
            names.append(info.name)
    return names


MODULES = _modules_with_examples()


def test_the_examples_are_found():
    assert {"neurofocus.represent.polarity_table", "neurofocus.metrics.perceptual"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    if name.startswith(("neurofocus.models", "neurofocus.train", "neurofocus.metrics.perceptual")):
        pytest.importorskip("torch")
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
