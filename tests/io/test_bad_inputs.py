"""Regression test: every reproducer of the fuzz campaign (tests/data/bad-inputs) is rejected in one line, exit 2.

Each file runs in its own child process with a time and a memory limit, so that a hang, an abort or a segfault fails
the test instead of taking pytest down: ``neurofocus info FILE`` and, where info accepts it, ``neurofocus convert
FILE out.npz`` (and ``convert FILE out --to FORMAT`` for a writer's reproducer named ``*.to-FORMAT.*``). The
children run a few at a time; the module fixture starts them all at once.
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

BAD_INPUTS = Path(__file__).resolve().parents[1] / "data" / "bad-inputs"
FILES = sorted(p for p in BAD_INPUTS.iterdir() if p.suffix not in (".json", ".md"))
TIMEOUT_S = 20
MEMORY_LIMIT_BYTES = 1_500_000_000

# Runs one command of the CLI in the child and prints {"rc": ..., "stderr": ...}; the child's own stderr (fd 2)
# must stay empty, which catches what bypasses sys.stderr (Rust panics, aborts).
_DRIVER = """
import contextlib, io, json, sys
from neurofocus.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(argv)
    results.append({"rc": rc, "stderr": err.getvalue()})
    if rc != 0:
        break
print(json.dumps(results))
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


def _run(path: Path, out_dir: Path) -> subprocess.CompletedProcess | str:
    try:
        return subprocess.run([sys.executable, "-c", _DRIVER, json.dumps(_commands(path, out_dir))],
                              capture_output=True, text=True, timeout=TIMEOUT_S, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        return f"hung for more than {TIMEOUT_S} s"


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, subprocess.CompletedProcess | str]:
    out_dir = tmp_path_factory.mktemp("bad-inputs-out")
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip((p.name for p in FILES), pool.map(lambda p: _run(p, out_dir), FILES)))


def test_reproducers_are_there():
    assert len(FILES) >= 20, f"expected the reproducers of ../shared/data/bad-inputs in {BAD_INPUTS}"


@pytest.mark.parametrize("name", [p.name for p in FILES])
def test_reproducer_is_rejected_in_one_line(outcomes, name):
    proc = outcomes[name]
    assert not isinstance(proc, str), proc
    assert proc.returncode == 0, f"child died (status {proc.returncode}): {proc.stderr[-2000:]}"
    assert proc.stderr == ""
    *accepted, last = json.loads(proc.stdout)
    assert all(step["rc"] == 0 for step in accepted)
    assert last["rc"] == 2, last
    lines = last["stderr"].splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("neurofocus: error: ")
    assert name in lines[0]
