"""The command line, as a user runs it."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from neurofocus.io import load_events, load_spikes, save_events, save_spikes
from neurofocus.types import Spikes

from .conftest import SAMPLES, random_events, run_cli as run, shared


def one_line_error(code, err, path):
    lines = err.splitlines()
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith(f"neurofocus: error: {path}")


def test_notes_come_with_success_and_not_before_an_error(capsys, tmp_path):
    ev = random_events(200, (64, 48))
    np.savez(tmp_path / "nosize.npz", t=ev.t, x=ev.x, y=ev.y, p=ev.p)  # no sensor size: a note
    code, out, err = run(capsys, "convert", tmp_path / "nosize.npz", tmp_path / "ok.npz")
    assert code == 0 and out.startswith("wrote 200 events")
    assert err.startswith("neurofocus: note: nosize.npz stores no sensor size")
    code, _, err = run(capsys, "convert", tmp_path / "nosize.npz", tmp_path / "out.xyz")
    one_line_error(code, err, tmp_path / "out.xyz")


def test_convert_window_that_misses_the_recording_says_so(capsys, tmp_path):
    save_events(tmp_path / "ev.npz", random_events(300, (64, 48)).shift_time(5_000_000))
    code, out, err = run(capsys, "convert", tmp_path / "ev.npz", tmp_path / "cut.npz", "--t-start-us", 0,
                         "--t-end-us", 500_000)
    assert code == 0 and out.startswith("wrote 0 events")
    assert "the window [0, 500000) µs holds nothing" in err and "300 events lie in 5,000," in err
    code, out, err = run(capsys, "convert", tmp_path / "ev.npz", tmp_path / "cut.npz", "--t-start-us", 5_000_000,
                         "--t-end-us", 5_050_000)
    assert code == 0 and err == "" and 0 < len(load_events(tmp_path / "cut.npz")) < 300


@pytest.mark.parametrize("relative, expected", [
    ("events/prophesee/evt3_sample.raw", ["evt3", "1280 x 720", "219,596", "52.6 %"]),
    ("events/prophesee/evt2_sample.raw", ["evt2", "640 x 480", "539,481", "68.2 %"]),
    ("events/aedat4/sample.aedat4", ["aedat4", "320 x 240", "111,954"]),
    ("events/davis346-motionblur/keyboard.mat", ["mat", "346 x 260", "24,988", "6.000 ms"]),
    ("events/davis346-motionblur/night_run.mat", ["240 x 180", "2,965"]),
    ("events/prophesee/evt3_sample.npy", ["1280 x 720", "219,596"]),
    ("spikes/uhsr/uhsr.npz", ["spike-npz", "200 ticks of 250 x 250", "unknown", "0.0314"]),
])
def test_info_on_real_files(capsys, relative, expected):
    code, out, _ = run(capsys, "info", shared(relative))
    assert code == 0
    for text in expected:
        assert text in out


def test_info_json_and_every_shared_file(capsys):
    files = [p for p in sorted(shared("events").rglob("*")) + sorted(shared("spikes").rglob("*"))
             if p.suffix in (".raw", ".aedat4", ".mat", ".npy", ".npz")]
    assert len(files) == 12
    for path in files:
        code, out, _ = run(capsys, "info", path, "--json")
        assert code == 0, path
        info = json.loads(out)
        assert info["kind"] in ("events", "spikes")


def test_convert_chain_round_trips(capsys, tmp_path):
    src = SAMPLES / "evt2_cut.raw"
    original = load_events(src)
    chain = [tmp_path / "a.hdf5", tmp_path / "b.txt", tmp_path / "c.raw", tmp_path / "d.npy"]
    previous = src
    for target in chain:
        code, out, _ = run(capsys, "convert", previous, target)
        assert code == 0 and "8,146 events" in out
        previous = target
    assert load_events(chain[-1]) == original
    code, _, _ = run(capsys, "convert", src, tmp_path / "e.raw", "--to", "evt21")
    assert code == 0 and load_events(tmp_path / "e.raw") == original
    code, out, _ = run(capsys, "convert", src, tmp_path / "cut.npz", "--t-start-us", 1_318_000, "--t-end-us", 1_318_400)
    cut = load_events(tmp_path / "cut.npz")
    assert code == 0 and 0 < len(cut) < len(original) and cut == original.slice_time(1_318_000, 1_318_400)


def test_convert_spikes(capsys, tmp_path):
    real = SAMPLES / "uhsr_cut.npz"
    code, _, _ = run(capsys, "convert", real, tmp_path / "s.npy", "--tick-us", 50)
    assert code == 0
    back = load_spikes(tmp_path / "s.npy")  # tick from the sidecar JSON
    assert back.tick_us == 50 and np.array_equal(back.frames(), load_spikes(real).frames())
    code, _, err = run(capsys, "convert", real, tmp_path / "s.dat")  # 250x250 bits is not a whole number of bytes
    one_line_error(code, err, tmp_path / "s.dat")
    save_spikes(tmp_path / "v.npz", Spikes.from_frames(np.random.default_rng(0).random((20, 250, 400)) < 0.1, 50.0))
    code, _, _ = run(capsys, "convert", tmp_path / "v.npz", tmp_path / "v.dat")
    assert code == 0 and load_spikes(tmp_path / "v.dat") == load_spikes(tmp_path / "v.npz")
    code, out, _ = run(capsys, "info", tmp_path / "v.dat")
    assert code == 0 and "20 kHz" in out and "20 ticks of 250 x 400" in out


def test_show_writes_pngs(capsys, tmp_path):
    code, _, _ = run(capsys, "show", SAMPLES / "evt3_cut.raw", "-o", tmp_path / "ev.png",
                     "--window-us", 2000)
    assert code == 0 and (tmp_path / "ev.png").read_bytes()[:4] == b"\x89PNG"
    code, _, _ = run(capsys, "show", SAMPLES / "uhsr_cut.npz", "-o", tmp_path / "sp.png")
    assert code == 0 and (tmp_path / "sp.png").stat().st_size > 1000


def test_bad_inputs_give_one_line_and_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, "info", tmp_path / "missing.raw")
    one_line_error(code, err, tmp_path / "missing.raw")
    noise = tmp_path / "noise.dat"
    noise.write_bytes(np.random.default_rng(0).integers(0, 256, 12_345, dtype=np.uint8).tobytes())
    code, _, err = run(capsys, "info", noise)
    one_line_error(code, err, noise)
    assert "--spike-size" in err
    code, _, err = run(capsys, "info", noise, "--spike-size", "400x250")
    one_line_error(code, err, noise)
    assert "trailing bytes" in err
    raw = (SAMPLES / "evt3_cut.raw").read_bytes()
    (tmp_path / "cut.raw").write_bytes(raw[:100_001])
    code, _, err = run(capsys, "info", tmp_path / "cut.raw")
    one_line_error(code, err, tmp_path / "cut.raw")
    save_events(tmp_path / "ev.npz", random_events())
    code, _, err = run(capsys, "convert", tmp_path / "ev.npz", tmp_path / "out.xyz")
    one_line_error(code, err, tmp_path / "out.xyz")


def test_formats_lists_readers_and_writers(capsys):
    code, out, _ = run(capsys, "formats")
    assert code == 0 and "evt3" in out and "vidar-dat" in out and "read/write" in out


def test_console_script_end_to_end(tmp_path):
    exe = shutil.which("neurofocus") or pytest.skip("console script not installed")
    save_spikes(tmp_path / "s.npz", Spikes.from_frames(np.zeros((3, 4, 8), bool), tick_us=50))
    ok = subprocess.run([exe, "info", str(tmp_path / "s.npz")], capture_output=True, text=True)
    assert ok.returncode == 0 and "3 ticks" in ok.stdout
    bad = subprocess.run([exe, "info", str(tmp_path / "nothing.raw")], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "Traceback" not in bad.stderr
    module = subprocess.run([sys.executable, "-m", "neurofocus.cli", "--version"], capture_output=True, text=True)
    assert module.returncode == 0 and "neurofocus" in module.stdout


def test_closed_pipe_ends_quietly(tmp_path):
    """The reader of stdout is gone before the command writes (``neurofocus formats | head -0``): no error text."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader closes early: every write to the pipe now fails with EPIPE
    try:
        proc = subprocess.run([sys.executable, "-m", "neurofocus.cli", "formats"], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert proc.stderr == ""
    assert proc.returncode == 141


def _every_parser(parser):
    """``parser`` and all its sub-command parsers, depth first."""
    import argparse

    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _every_parser(sub)


def test_every_size_flag_reads_width_first():
    from neurofocus.cli import build_parser

    size_flags = {}
    for parser in _every_parser(build_parser()):
        for action in parser._actions:
            spatial = any(s.endswith("-size") for s in action.option_strings) and action.type is not int
            if action.metavar in ("WxH", "HxW") or spatial:  # (--stack-size counts slices)
                size_flags[(parser.prog, action.option_strings[0])] = action.metavar
    assert size_flags and all(metavar == "WxH" for metavar in size_flags.values()), size_flags


def _meaning(action) -> str:
    """What kind of value a flag takes: none (an on/off switch), a number, or a text (a path, a name, a choice)."""
    if action.nargs == 0:
        return "switch"
    if action.type in (int, float) or getattr(action.type, "__name__", "") in ("positive_float", "positive_int"):
        return "number"
    return "text"


def test_a_flag_takes_the_same_kind_of_value_in_every_command():
    from neurofocus.cli import build_parser

    meanings = {}
    for parser in _every_parser(build_parser()):
        for action in parser._actions:
            for flag in action.option_strings:
                meanings.setdefault(flag, {}).setdefault(_meaning(action), []).append(parser.prog)
    assert len(meanings) > 100 and set(meanings["--with-spikes"]) == {"switch"}
    assert {flag: uses for flag, uses in meanings.items() if len(uses) > 1} == {}


def test_command_table_names_every_command_in_help_order():
    from neurofocus.cli import COMMAND_MODULES, build_parser

    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    assert list(subparsers.choices) == [c for commands in COMMAND_MODULES.values() for c in commands]
    for command in subparsers.choices:  # each command alone gets its own full parser
        only = next(a for a in build_parser(command)._actions if a.dest == "command").choices
        assert list(only) == [command]
        assert only[command].format_help() == subparsers.choices[command].format_help()


def test_main_called_from_python_leaves_the_garbage_collector_alone(capsys):
    import gc

    from neurofocus.cli import main

    frozen = gc.get_freeze_count()
    assert main(["formats"]) == 0
    assert gc.get_freeze_count() == frozen and gc.isenabled()


@pytest.mark.parametrize("command, threads", [("formats", "1"), ("train", None)])
def test_the_program_loads_numpy_with_one_blas_thread_but_for_train(command, threads):
    """Run as the program, a command (but ``train``) loads numpy with OpenBLAS on one thread, unless the user set it."""
    script = ("import os, sys\nfrom neurofocus.cli import main\nsys.argv = ['neurofocus', sys.argv[1]]\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\nprint(os.environ.get('OPENBLAS_NUM_THREADS'))")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    done = subprocess.run([sys.executable, "-c", script, command], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.split("\n")[-2] == str(threads), done.stderr
    env["OPENBLAS_NUM_THREADS"] = "3"
    done = subprocess.run([sys.executable, "-c", script, command], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.split("\n")[-2] == "3", done.stderr
