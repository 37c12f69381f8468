"""Regression test: every reproducer of the fuzz campaign (tests/data/bad-inputs) is rejected in one line, exit 2.

The files run in child processes with a time and a memory limit, so that a hang, an abort or a segfault fails the
test instead of taking pytest down: ``neurofocus info FILE`` and, where info accepts it, ``neurofocus convert FILE
out.npz`` (and ``convert FILE out --to FORMAT`` for a writer's reproducer named ``*.to-FORMAT.*``). A child runs
several files in turn (paying the interpreter and the CLI's imports once), each under its own alarm; when a child
dies, the file it was on is the one that killed it, and the files after it run in a fresh child. The module fixture
runs them all at once, one child per core.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

BAD_INPUTS = Path(__file__).resolve().parents[1] / "data" / "bad-inputs"
FILES = sorted(p for p in BAD_INPUTS.iterdir() if p.suffix not in (".json", ".md"))
TIMEOUT_S = 20
MEMORY_LIMIT_BYTES = 1_500_000_000
CHILDREN = 2

# Runs each file's commands of the CLI in turn, each file under an alarm of TIMEOUT_S (its default action kills the
# child, even inside C), and appends {"name", "results": [{"rc", "stderr"}...], "fd2"} to the file argv[3] when the
# file is done. fd 2 is redirected per file: what bypasses sys.stderr (Rust panics, C messages) must stay empty.
_DRIVER = """
import contextlib, io, json, os, signal, sys, tempfile
from neurofocus.cli import main
jobs, timeout, log = json.loads(sys.argv[1]), int(sys.argv[2]), open(sys.argv[3], "a")
for name, commands in jobs:
    results = []
    with tempfile.TemporaryFile() as fd2:
        os.dup2(fd2.fileno(), 2)
        signal.alarm(timeout)
        for argv in commands:
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                rc = main(argv)
            results.append({"rc": rc, "stderr": err.getvalue()})
            if rc != 0:
                break
        signal.alarm(0)
        fd2.seek(0)
        raw = fd2.read().decode(errors="replace")
    log.write(json.dumps({"name": name, "results": results, "fd2": raw}) + "\\n")
    log.flush()
"""


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


def _commands(path: Path, out_dir: Path) -> list[list[str]]:
    """info, convert to .npz, and for a reproducer named ``*.to-FORMAT.*`` (a writer failure) convert --to FORMAT."""
    commands = [["info", str(path)], ["convert", str(path), str(out_dir / f"{path.name}.out.npz")]]
    target = re.search(r"\.to-([a-z0-9-]+)\.", path.name)
    if target:
        commands.append(["convert", str(path), str(out_dir / f"{path.name}.out"), "--to", target[1]])
    return commands


def _run_files(paths: list[Path], out_dir: Path) -> dict[str, dict | str]:
    """Each file's outcome: the driver's record, or a string saying how the child died on it."""
    outcomes: dict[str, dict | str] = {}
    while len(outcomes) < len(paths):
        todo = [p for p in paths if p.name not in outcomes]
        fd, log = tempfile.mkstemp(suffix=".jsonl", dir=out_dir)
        os.close(fd)
        jobs = [[p.name, _commands(p, out_dir)] for p in todo]
        proc = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps(jobs), str(TIMEOUT_S), log],
                              capture_output=True, text=True, preexec_fn=_limit_memory)
        for line in Path(log).read_text().splitlines():
            record = json.loads(line)
            outcomes[record["name"]] = record
        if len(outcomes) < len(paths):
            culprit = next(p.name for p in todo if p.name not in outcomes)
            how = "hung (alarm)" if proc.returncode == -14 else f"died with status {proc.returncode}"
            outcomes[culprit] = f"the child {how} on it: {proc.stderr[-2000:]}"
    return outcomes


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, dict | str]:
    out_dir = tmp_path_factory.mktemp("bad-inputs-out")
    by_size = sorted(FILES, key=lambda p: -p.stat().st_size)  # spread the heavy ones over the children
    with ThreadPoolExecutor(max_workers=CHILDREN) as pool:
        parts = pool.map(lambda k: _run_files(by_size[k::CHILDREN], out_dir), range(CHILDREN))
    return {name: outcome for part in parts for name, outcome in part.items()}


def test_reproducers_are_there():
    assert len(FILES) >= 20, f"expected the reproducers of ../shared/data/bad-inputs in {BAD_INPUTS}"


@pytest.mark.parametrize("name", [p.name for p in FILES])
def test_reproducer_is_rejected_in_one_line(outcomes, name):
    outcome = outcomes[name]
    assert not isinstance(outcome, str), outcome
    assert outcome["fd2"] == ""
    *accepted, last = outcome["results"]
    assert all(step["rc"] == 0 for step in accepted)
    assert last["rc"] == 2, last
    lines = last["stderr"].splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("neurofocus: error: ")
    assert name in lines[0]


def test_a_child_that_dies_fails_its_file_and_the_rest_still_run(tmp_path, monkeypatch):
    good = [p for p in FILES if p.suffix == ".npy"][:2]
    killer = tmp_path / "killer.npy"
    killer.write_bytes(b"x")
    original = _commands

    def commands(path, out_dir):  # the killer file's command makes the child kill itself, as a segfault would
        if path == killer:
            return [["-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"]]
        return original(path, out_dir)

    monkeypatch.setattr(sys.modules[__name__], "_commands", commands)
    monkeypatch.setattr(sys.modules[__name__], "_DRIVER", _DRIVER.replace(
        "rc = main(argv)", "rc = exec(argv[1]) if argv[0] == '-c' else main(argv)"))
    outcomes = _run_files([good[0], killer, good[1]], tmp_path)
    assert outcomes["killer.npy"].startswith("the child died with status -11")
    assert [outcomes[p.name]["results"][-1]["rc"] for p in good] == [2, 2]
