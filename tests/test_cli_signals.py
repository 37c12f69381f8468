"""Outputs stay atomic when ``neurofocus convert`` is stopped by SIGTERM or SIGINT in the middle of writing."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from neurofocus.io import save_events

from .conftest import random_events


def _temporaries(folder):
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name)


@pytest.fixture(scope="module")
def big_input(tmp_path_factory):
    path = tmp_path_factory.mktemp("signals") / "big.npz"
    save_events(path, random_events(1_000_000, (640, 480), seed=3, t_max=60_000_000))
    return path


@pytest.mark.parametrize("signum, old_output", [(signal.SIGTERM, False), (signal.SIGTERM, True),
                                                (signal.SIGINT, True)])
def test_signal_mid_write_leaves_no_temporary_file(tmp_path, big_input, signum, old_output):
    out = tmp_path / "out.txt"
    if old_output:
        out.write_text("old complete file\n")
    # SIGINT as a terminal delivers it: a suite started in the background of a shell ignores SIGINT, and a child
    # would inherit that (Python then installs no KeyboardInterrupt handler)
    with subprocess.Popen([sys.executable, "-m", "neurofocus.cli", "convert", str(big_input), str(out)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) as proc:
        deadline = time.monotonic() + 60
        while not _temporaries(tmp_path) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if not _temporaries(tmp_path):
            proc.kill()
            pytest.fail(f"convert never started writing (or finished before the signal): {proc.communicate()[1]}")
        time.sleep(0.2)  # well inside the write
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err
    assert err.strip() in ("neurofocus: terminated", "neurofocus: interrupted")
    assert _temporaries(tmp_path) == []
    if old_output:
        assert out.read_text() == "old complete file\n"
    else:
        assert not out.exists()
