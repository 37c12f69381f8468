"""The one home of the strict dict and positive-number checks, and the configs that use it."""

import dataclasses
import math

import pytest

from neurofocus.config_dicts import check_keys, check_positive, from_dict, positive_float, positive_int
from neurofocus.errors import NeurofocusError
from neurofocus.simulate.dataset import SynthConfig
from neurofocus.simulate.optics import ThinLens


@dataclasses.dataclass(frozen=True)
class Pair:
    b: int = 1
    a: int = 2

    def __post_init__(self):
        check_positive(self.a, "a")


def test_unknown_keys_are_named_in_the_callers_words_with_the_file():
    with pytest.raises(NeurofocusError) as info:
        check_keys({"a": 1, "zz": 2, "c": 3}, ["a", "b"], "unknown key {first} of {unknown} (known: {known})", "x.json")
    assert str(info.value) == "x.json: unknown key 'c' of ['c', 'zz'] (known: a, b)"
    check_keys({"a": 1}, ["a", "b"], "never raised {unknown}")


def test_from_dict_builds_drops_ignored_keys_and_orders_the_known_list():
    assert from_dict(Pair, {"kind": "pair", "a": 5}, "{unknown}", ignore=("kind",)) == Pair(b=1, a=5)
    with pytest.raises(NeurofocusError, match=r"^unknown 'c' \(known: b, a\)$"):
        from_dict(Pair, {"c": 1}, "unknown {first} (known: {known})")
    with pytest.raises(NeurofocusError, match=r"^unknown 'c' \(known: a, b\)$"):
        from_dict(Pair, {"c": 1}, "unknown {first} (known: {known})", sort_known=True)
    with pytest.raises(NeurofocusError, match="^cfg.json: settings must be a JSON object$"):
        from_dict(Pair, [1, 2], "{unknown}", source="cfg.json")
    with pytest.raises(NeurofocusError, match="^cfg.json: a must be positive, got 0$"):  # the constructor's error
        from_dict(Pair, {"a": 0}, "{unknown}", source="cfg.json")


@pytest.mark.parametrize("value", [0, -1.5, math.nan, math.inf, "3", None])
def test_check_positive_refuses(value):
    with pytest.raises(NeurofocusError, match=f"^speed must be positive, got {value}$"):
        check_positive(value, "speed")


def test_positive_numbers():
    check_positive(1e-9, "speed")
    assert positive_float(2, "w") == 2.0 and isinstance(positive_float(2, "w"), float)
    assert positive_int(3.0, "n") == 3 and positive_int(3, "n", integral=True) == 3
    for bad in (0, -2, 2.5, True, "x", math.inf):
        with pytest.raises(NeurofocusError, match=f"^n must be a positive integer, got {bad!r}$"):
            positive_int(bad, "n")
    with pytest.raises(NeurofocusError, match="^n must be a positive integer, got 3.0$"):
        positive_int(3.0, "n", integral=True)
    for bad in (0.0, -1, math.nan, math.inf, True, "x"):
        with pytest.raises(NeurofocusError, match="^w must be a positive number"):
            positive_float(bad, "w")


def test_configs_use_it():
    with pytest.raises(NeurofocusError, match=r"^unknown dataset settings \['scenez'\]$"):
        SynthConfig.from_json({"scenez": 3})
    with pytest.raises(NeurofocusError, match="^f_number must be positive, got -1.0$"):
        ThinLens(f_number=-1.0)
