"""``neurofocus aif``, ``eval`` and ``bench aif`` as a user runs them, on files written by ``neurofocus simulate``."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from neurofocus.cli import main
from neurofocus.images import read_image, write_image

from .conftest import run_cli as run


@pytest.mark.parametrize("fmt, name", [("evt3", "events.raw"), ("prophesee-hdf5", "ev.hdf5"), ("efs-npy", "ev.npy"),
                                       ("voltmeter-txt", "ev.txt")])
def test_aif_on_event_files_in_several_formats(capsys, tmp_path, simulated, fmt, name):
    source = simulated / "events.raw"
    if name != "events.raw":
        assert main(["convert", str(source), str(tmp_path / name), "--to", fmt]) == 0
        source = tmp_path / name
    capsys.readouterr()
    code, out, err = run(capsys, "aif", "--image", simulated / "image.png", "--events", source, "--out",
                         tmp_path / "out")
    assert code == 0, err
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["modality"] == "events" and result["image_time_us"] == json.loads(
        (simulated / "sample.json").read_text())["image_time_us"]  # found in sample.json
    aif = read_image(tmp_path / "out" / "aif.png")
    assert aif.shape == (72, 96, 3)
    assert len(list((tmp_path / "out" / "stack").glob("*.png"))) == len(result["stack_times_us"])
    assert (tmp_path / "out" / "infocus_time.png").is_file() and (tmp_path / "out" / "depth.png").is_file()
    code, out, _ = run(capsys, "eval", "--pred", tmp_path / "out" / "aif.png", "--gt", simulated / "aif.png")
    code_in, out_in, _ = run(capsys, "eval", "--pred", simulated / "image.png", "--gt", simulated / "aif.png",
                             "--json")
    assert code == 0 and code_in == 0 and "PSNR" in out
    psnr_out = float(out.split("PSNR ")[1].split(" dB")[0])
    assert psnr_out > json.loads(out_in)["psnr"]  # better than the input image


def test_aif_on_spikes(capsys, tmp_path, simulated):
    code, _, err = run(capsys, "aif", "--image", simulated / "image.png", "--spikes", simulated / "spikes.dat",
                       "--out", tmp_path / "out")
    assert code == 0, err
    assert json.loads((tmp_path / "out" / "result.json").read_text())["modality"] == "spikes"


def test_aif_errors(capsys, tmp_path, simulated):
    big = np.zeros((80, 100, 3), np.float32)
    write_image(tmp_path / "big.png", big)
    code, _, err = run(capsys, "aif", "--image", tmp_path / "big.png", "--events", simulated / "events.raw",
                       "--image-time", 0, "--out", tmp_path / "o")
    assert code == 2 and "image is 100x80 but the event sensor is 96x72" in err
    code, _, err = run(capsys, "aif", "--image", tmp_path / "big.png", "--out", tmp_path / "o")
    assert code == 2 and "exactly one of --events" in err
    lone = tmp_path / "lone"
    lone.mkdir()
    write_image(lone / "img.png", np.zeros((72, 96, 3), np.float32))
    (lone / "ev.raw").write_bytes((simulated / "events.raw").read_bytes())  # no sample.json beside either file
    code, _, err = run(capsys, "aif", "--image", lone / "img.png", "--events", lone / "ev.raw", "--out",
                       tmp_path / "o")
    assert code == 2 and "--image-time" in err
    code, _, err = run(capsys, "eval", "--pred", tmp_path / "big.png", "--gt", simulated / "aif.png")
    assert code == 2 and "100x80" in err


def test_bench_aif_quick(capsys, tmp_path):
    code, out, err = run(capsys, "bench", "aif", "--scenes", 1, "--frames", 40, "--focus-positions", 2,
                         "--slice-counts", "8,4", "--size", "160x120", "--output", tmp_path / "report.md", "--report",
                         tmp_path / "report.html")
    assert code == 0, err
    assert err.startswith("bench aif: 2 synthetic scenes") and "rendering and simulating synthetic scene 1 of 1" in err
    page = (tmp_path / "report.html").read_text()
    assert page.count("<h3>") == 4  # a picture strip per case
    assert page.count("<figure>") == 4 * 11  # 10 rows and the ground truth
    assert "events: hand-crafted (robust search): " in page and "<table>" in page
    report = (tmp_path / "report.md").read_text()
    assert "events: hand-crafted (robust search)" in report and "spikes: hand-crafted" in report
    assert "events: uniform times (golden's count)" in report
    assert "synthetic, ideal events (n=1)" in report and "synthetic planes, dvs-voltmeter events (n=1)" in report
    assert "| 5% |" in report and "| 95% |" in report
    assert "| 8 |" in report and "| 4 |" in report and "learned" not in report
    decomposition = [line.split(" | ") for line in report.splitlines() if "| events: hand-crafted (robust" in line
                     and line.count("|") == 10]
    assert len(decomposition) == 4  # one line per data group
    for line in decomposition:
        values = [float(v) for v in line[2:8] + [line[8].rstrip(" |")]]
        assert all(10 < v < 80 for v in values)
        assert values[2] <= values[3]  # the true frames at the chosen times beat the refocused slices


def test_bench_aif_row_filter_and_photo_textured_scenes(capsys, tmp_path):
    (tmp_path / "photos").mkdir()
    write_image(tmp_path / "photos" / "noise.png", np.random.default_rng(0).random((64, 80, 3)).astype(np.float32))
    code, out, err = run(capsys, "bench", "aif", "--scenes", 1, "--frames", 40, "--focus-positions", 0,
                         "--slice-counts", "", "--rows", "golden", "--size", "128x96", "--textures", tmp_path / "photos")
    assert code == 0, err
    table = [line for line in out.splitlines() if line.startswith("| ") and "dB" in line]
    assert [line.split(" | ")[0] for line in table] == [
        "| input image", "| events: uniform times (golden's count)", "| events: golden-section times"]
    assert "--rows 'golden'" in out and "rendering and simulating synthetic, photos photographs scene 1 of 1" in err
    header = next(line for line in out.splitlines() if line.startswith("| method |"))
    assert "synthetic, photos photographs, ideal events (n=1)" in header and "synthetic planes, ideal" in header
    code, _, err = run(capsys, "bench", "aif", "--scenes", 1, "--rows", "no such row")
    assert code == 2 and "no benchmark row matches" in err and "events: hand-crafted (robust search)" in err


def test_bench_aif_learned_rows(capsys, tmp_path):
    pytest.importorskip("torch")
    from neurofocus.models import create_model, save_weights

    save_weights(create_model("neuro_refocus_net", seed=0, width=0.125), tmp_path / "r.safetensors")
    # only the rows of the network (the hand-crafted rows are test_bench_aif_quick's)
    code, out, err = run(capsys, "bench", "aif", "--scenes", 1, "--frames", 40, "--focus-positions", 0,
                         "--slice-counts", "4", "--event-networks", tmp_path / "r.safetensors", "--size", "128x96",
                         "--rows", "learned", "--rows", "refocus network")
    assert code == 0, err
    for row in ("events: learned (refocus network + hand-crafted merge)",
                "events: refocus network + gradient weights (GDF)", "events: learned, uniform times (16)",
                "| slices | hand-crafted (events) | learned (events) |"):
        assert row in out
    # the learned rows' dB are decomposed too; an untrained network returns the hand-crafted refocus, so its picked
    # slices are the hand-crafted ones: the own-slice oracle beats the input
    decomposed = re.search(r"\| synthetic, ideal events \| events: learned \(refocus network \+ hand-crafted merge\) "
                           r"\| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|", out)
    assert decomposed and float(decomposed[3]) > float(decomposed[1])
    code, _, err = run(capsys, "bench", "aif", "--scenes", 1, "--event-networks", *[tmp_path / "r.safetensors"] * 3)
    assert code == 2 and "at most one merge network" in err


def test_aif_learned_method_with_weight_files(capsys, tmp_path, simulated):
    torch = pytest.importorskip("torch")  # noqa: F841
    from neurofocus.models import create_model, save_weights

    save_weights(create_model("neuro_refocus_net", seed=0, width=0.125, event_image="captured"),
                 tmp_path / "r.safetensors")
    save_weights(create_model("neuro_merge_net", seed=0, width=0.125), tmp_path / "m.safetensors")
    inputs = ["aif", "--image", simulated / "image.png", "--events", simulated / "events.raw"]
    code, _, err = run(capsys, *inputs, "--method", "efs", "--out", tmp_path / "none")
    assert code == 2 and "give --refocus-weights" in err  # no EFS networks ship
    args = inputs + ["--method", "learned"]
    code, _, err = run(capsys, *args, "--refocus-weights", tmp_path / "r.safetensors", "--merge-weights",
                       tmp_path / "m.safetensors", "--out", tmp_path / "out")
    assert code == 0, err
    assert json.loads((tmp_path / "out" / "result.json").read_text())["method"] == "learned"
    # an untrained refocus network returns its input, so the merged image is the input image
    assert np.abs(read_image(tmp_path / "out" / "aif.png") - read_image(simulated / "image.png")).max() <= 1 / 255
    code, _, err = run(capsys, *args, "--refocus-weights", tmp_path / "r.safetensors", "--merge", "handcrafted",
                       "--focus-measure", "gradient", "--out", tmp_path / "hand")
    assert code == 0, err
    assert json.loads((tmp_path / "hand" / "result.json").read_text())["weights"] == "gradient"
    assert np.abs(read_image(tmp_path / "hand" / "aif.png") - read_image(simulated / "image.png")).max() <= 1 / 255



def test_aif_report_holds_every_slice_and_a_rerun_replaces_the_outputs(capsys, tmp_path, simulated):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("the user's own file")
    code, _, err = run(capsys, "aif", "--image", simulated / "image.png", "--events", simulated / "events.raw",
                       "--out", out)
    assert code == 0, err
    result = json.loads((out / "result.json").read_text())
    page = (out / "report.html").read_text()
    slices = json.loads(page.split("const SLICES = ")[1].split(";\n")[0])
    assert len(slices) == len(result["stack_times_us"]) > 2
    assert all(s["src"].startswith("data:image/png;base64,") for s in slices)
    assert "http://" not in page and "https://" not in page  # nothing to fetch
    assert result["metrics"]["result"]["psnr"] > result["metrics"]["input image"]["psnr"]  # ground truth found
    first = sorted(p.name for p in (out / "stack").iterdir())
    code, _, err = run(capsys, "aif", "--image", simulated / "image.png", "--events", simulated / "events.raw",
                       "--out", out, "--times", "uniform", "--num-uniform", "3")
    assert code == 0, err
    second = sorted(p.name for p in (out / "stack").iterdir())
    assert len(second) == len(json.loads((out / "result.json").read_text())["stack_times_us"]) <= 4
    assert set(second) != set(first)  # the first run's slices are gone, not mixed in
    assert (out / "notes.txt").read_text() == "the user's own file"


def test_aif_refuses_to_write_over_the_sample_folder(capsys, simulated):
    truth = (simulated / "aif.png").read_bytes()
    code, _, err = run(capsys, "aif", "--image", simulated / "image.png", "--events", simulated / "events.raw",
                       "--out", simulated)
    assert code == 2 and err.startswith(f"neurofocus: error: {simulated}: ") and err.count("\n") == 1
    assert (simulated / "aif.png").read_bytes() == truth


def test_bench_aif_rgbd_rows_from_image_and_depth_folders(capsys, tmp_path):
    rng = np.random.default_rng(0)
    for name, kind in (("scene_a", "disparity"), ("scene_b", "depth")):
        folder = tmp_path / "rgbd" / name
        folder.mkdir(parents=True)
        write_image(folder / "image.png", rng.random((40, 56, 3)).astype(np.float32))
        values = np.where(np.arange(56) < 28, 10.0, 30.0)[None].repeat(40, 0).astype(np.float32)
        values[0, 0] = np.nan  # a hole, filled from its neighbours
        np.save(folder / "depth.npy", values if kind == "disparity" else 100 / values)
        (folder / "meta.json").write_text(json.dumps({"depth_kind": kind}))
    code, out, err = run(capsys, "bench", "aif", "--scenes", 0, "--rgbd", tmp_path / "rgbd", "--lf-frames", 24,
                         "--focus-positions", 0, "--slice-counts", "", "--rows", "events: hand-crafted")
    assert code == 0, err
    for group in ("Middlebury, ideal events (n=2)", "Middlebury, DVS346 events (n=2)",
                  "Middlebury, random-k events (n=2)", "Middlebury nearly in focus, DVS346 events (n=2)"):
        assert group in out
    assert "| Middlebury nearly in focus, random-k events | events: hand-crafted (robust search) |" in out
    assert "ideal events (n=2)" in out and "nearly in focus, ideal" not in out


def _one_error_line(code, err, path):
    lines = err.splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith(f"neurofocus: error: {path}: "), err
    return lines[0]


def test_aif_rejects_nan_and_out_of_range_float_images(capsys, tmp_path, simulated):
    from PIL import Image

    for name, value in (("nan.tif", np.nan), ("inf.tif", np.inf), ("bright.tif", 7.5), ("negative.tif", -0.5)):
        Image.fromarray(np.full((72, 96), value, np.float32), mode="F").save(tmp_path / name)
        code, _, err = run(capsys, "aif", "--image", tmp_path / name, "--events", simulated / "events.raw",
                           "--out", tmp_path / "o")
        line = _one_error_line(code, err, tmp_path / name)
        assert ("NaN or infinite" in line) if not np.isfinite(value) else ("must lie in [0, 1]" in line)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("offset", [-10**18, -1, 1, 10**18])
def test_aif_rejects_image_times_far_outside_the_recording(capsys, tmp_path, simulated, offset):
    info = json.loads(main(["info", str(simulated / "events.raw"), "--json"]) == 0 and capsys.readouterr().out)
    span = info["t_last_us"] - info["t_first_us"]
    time = (info["t_first_us"] - span // 5 if offset == -1 else info["t_last_us"] + span // 5 if offset == 1
            else offset)
    code, _, err = run(capsys, "aif", "--image", simulated / "image.png", "--events", simulated / "events.raw",
                       "--image-time", time, "--out", tmp_path / "o")
    assert "outside the recording" in _one_error_line(code, err, simulated / "events.raw")


def test_aif_and_evfocus_reject_recordings_without_events_or_spikes(capsys, tmp_path, simulated):
    from neurofocus.io import save_events, save_spikes
    from neurofocus.types import Events, Spikes

    save_events(tmp_path / "none.npz", Events.empty((96, 72)))
    save_spikes(tmp_path / "dark.npz", Spikes.from_frames(np.zeros((20, 72, 96), bool), tick_us=50))
    for flag, name, what in (("--events", "none.npz", "no events"), ("--spikes", "dark.npz", "no spikes")):
        code, _, err = run(capsys, "aif", "--image", simulated / "image.png", flag, tmp_path / name,
                           "--image-time", 0, "--out", tmp_path / "o")
        assert what in _one_error_line(code, err, tmp_path / name)
    code, _, err = run(capsys, "evfocus", "--events", tmp_path / "none.npz", "--method", "integrate", "--out",
                       tmp_path / "o")
    assert "no events" in _one_error_line(code, err, tmp_path / "none.npz")


def test_aif_defaults_are_the_pipeline_config_defaults():
    """Every aif flag named after an AifConfig field defaults to the field's default: the command and the library
    agree."""
    import argparse
    import dataclasses

    from neurofocus.aif.pipeline import AifConfig
    from neurofocus.cli import build_parser

    sub = next(a for a in build_parser(["aif"])._actions if isinstance(a, argparse._SubParsersAction))
    fields = {f.name: f.default for f in dataclasses.fields(AifConfig)}
    checked = set()
    for action in sub.choices["aif"]._actions:
        if action.dest in fields and action.default is not None:
            checked.add(action.dest)
            assert action.default == fields[action.dest], action.option_strings
    assert {"times", "num_uniform", "grid"} <= checked, checked


def test_aif_on_an_evt3_file_imports_only_what_it_uses(tmp_path, simulated):
    """The command's kernels (EVT 3 decoder, polarity table, patch grouping, pictures) are compiled C: its process
    never imports numba (~1 s of start-up); nor, with --quiet, tqdm, nor the AEDAT 4 decoder or multiprocessing."""
    unused = ("numba", "llvmlite", "tqdm", "neurofocus.io.aedat4", "multiprocessing")
    script = ("import sys\nfrom neurofocus.cli import main\ncode = main(sys.argv[1:])\n"
              f"print(code, sorted(m for m in sys.modules if m.startswith({unused})))")
    done = subprocess.run([sys.executable, "-c", script, "--quiet", "aif", "--image", str(simulated / "image.png"),
                           "--events", str(simulated / "events.raw"), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert done.stdout.split("\n")[-2] == "0 []", done.stderr
    assert (tmp_path / "out" / "aif.png").is_file()
