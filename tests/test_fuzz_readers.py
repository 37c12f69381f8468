"""A short seeded run of the project's mutation fuzzer (tools/fuzz_readers.py) over every readable format: no
crash, hang, memory blow-up or accepted-but-broken file."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from neurofocus.io import FORMATS

from .conftest import ROOT


@pytest.fixture(scope="module")
def fuzz():
    spec = importlib.util.spec_from_file_location("fuzz_readers", ROOT / "tools" / "fuzz_readers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_short_fuzz_run_finds_no_failure(fuzz):
    reports = fuzz.campaign(list(FORMATS), mutants=6, seed=20240519, jobs=2)
    assert [r.fmt for r in reports] == list(FORMATS)
    assert all(r.mutants == 6 for r in reports)
    assert sum(r.counts["ok"] for r in reports) > 0 and sum(r.counts["rejected"] for r in reports) > 0
    assert fuzz.failure_lines(reports) == []


def test_the_report_does_not_depend_on_the_number_of_jobs(fuzz, tmp_path):
    one, two = (fuzz.campaign(["evt2", "npy"], mutants=8, seed=3, save_dir=tmp_path / f"jobs{j}", jobs=j)
                for j in (1, 2))
    assert [(r.fmt, r.mutants, r.counts) for r in one] == [(r.fmt, r.mutants, r.counts) for r in two]
    assert sum(r.counts["rejected"] for r in one) > 0


def test_the_classifier_catches_what_it_must(fuzz, tmp_path):
    out = tmp_path / "out.npz"
    path = tmp_path / "in.raw"
    path.write_bytes(b"x")
    info = [0, ""]
    ok = {"info": info, "convert": [0, ""], "count": 3, "out_count": 3, "out_bytes": 10}
    assert fuzz.classify(ok, path, out, 0) == ("ok", "")
    assert fuzz.classify({**ok, "problem": "unsorted times"}, path, out, 0)[0] == "accepted-broken"
    assert fuzz.classify({**ok, "out_count": 2}, path, out, 0)[0] == "accepted-broken"
    assert fuzz.classify(ok, path, out, 2 << 30)[0] == "blow-up"
    assert fuzz.classify({**ok, "out_bytes": 1 << 30}, path, out, 0)[0] == "blow-up"
    assert fuzz.classify({**ok, "out_bytes": 100 << 20}, path, out, 0)[0] == "ok"
    rejected = {"info": [2, f"neurofocus: error: {path}: corrupt\n"]}
    assert fuzz.classify(rejected, path, out, 0)[0] == "rejected"
    for rc, err in ((2, "neurofocus: error: corrupt\n"), (2, f"neurofocus: note: x\nneurofocus: error: {path}: y\n"),
                    (1, "neurofocus: internal error: ValueError: x\n"), (0, "thread panicked at src/lib.rs\n"),
                    (2, f"Traceback (most recent call last):\nneurofocus: error: {path}: y\n")):
        assert fuzz.classify({"info": [rc, err]}, path, out, 0)[0] == "crash", err
    memory = {"info": [2, f"neurofocus: error: {path}: the file declares more data than fits in memory\n"]}
    assert fuzz.classify(memory, path, out, 0)[0] == "blow-up"
