"""The folder contract (neurofocus.datasets.folders): the kind registry, listing, the sample helpers the commands use."""

import dataclasses
import json

import numpy as np
import pytest

from neurofocus import datasets
from neurofocus.datasets import (
    KINDS,
    DatasetKind,
    dataset_kind,
    has_stream,
    is_sample_folder,
    jsonable,
    list_folders,
    read_info,
    sample_focus_schedule,
    sample_ground_truth,
    sample_image_time,
    synthesize,
)
from neurofocus.errors import NeurofocusError
from neurofocus.simulate.dataset import SynthConfig

TINY = SynthConfig(width=40, height=32, num_frames=12, frame_rate_hz=240.0, max_blur_px=(4.0, 6.0),
                   event_model="ideal", keep_every=6)


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    out = tmp_path_factory.mktemp("scenes")
    synthesize(out, 2, seed=1, config=TINY, workers=1, progress=False)
    return out


def test_the_two_kinds_are_registered():
    assert set(KINDS) == {"focal-sweep", "defocus-video"}
    assert dataset_kind("focal-sweep").resolve("config") is SynthConfig
    assert dataset_kind("defocus-video").prefix == "seq"
    with pytest.raises(NeurofocusError, match=r"^unknown dataset kind 'x' \(focal-sweep or defocus-video\)$"):
        dataset_kind("x")


@dataclasses.dataclass(frozen=True)
class Toy:
    """Settings of a toy kind: one folder holding one number."""

    KIND = "toy"
    value: int = 3

    @classmethod
    def from_json(cls, data):
        return cls(**{k: v for k, v in data.items() if k != "kind"})

    def to_json(self):
        return {"kind": self.KIND, "value": self.value}


def toy_simulate(config, seed, index, *, workers=1):
    return config.value * 10 + index, {"index": index, "seed": seed}


def toy_write(folder, simulated, meta):
    folder.mkdir(parents=True)
    info = {"number": simulated, **meta}
    (folder / "toy.json").write_text(json.dumps(info))
    return info


def test_a_registered_kind_is_synthesized_listed_and_read(monkeypatch, tmp_path):
    toy = DatasetKind(name="toy", item="toy", prefix="toy", info_file="toy.json", files=("toy.json",), streams={},
                      synth="make toys", config=f"{__name__}:Toy", simulate=f"{__name__}:toy_simulate",
                      write=toy_write)
    monkeypatch.setitem(KINDS, "toy", toy)
    manifest = synthesize(tmp_path, 3, seed=2, config=Toy(value=4), workers=1, progress=False)
    assert [s["folder"] for s in manifest["scenes"]] == ["toy_00000", "toy_00001", "toy_00002"]
    folders = list_folders(tmp_path, "toy", purpose="toys only")
    assert [read_info(f, "toy")["number"] for f in folders] == [40, 41, 42]
    with pytest.raises(NeurofocusError, match=r"is a toy dataset; need scenes \(neurofocus synth\)$"):
        list_folders(tmp_path, "focal-sweep", purpose="need scenes")


def test_list_folders(scenes, tmp_path):
    assert [p.name for p in list_folders(scenes, "focal-sweep", purpose="-")] == ["scene_00000", "scene_00001"]
    assert list_folders(scenes / "scene_00001", "focal-sweep", purpose="-") == [scenes / "scene_00001"]
    (tmp_path / "scene_00000").mkdir()  # incomplete: not listed
    with pytest.raises(NeurofocusError, match=r"holds no scene folders \(make a dataset with: neurofocus synth "):
        list_folders(tmp_path, "focal-sweep", purpose="-")
    with pytest.raises(NeurofocusError, match=r"holds no sequence folders \(make a dataset with: neurofocus synth "
                                              "--kind defocus-video"):
        list_folders(tmp_path, "defocus-video", purpose="-")
    with pytest.raises(NeurofocusError, match="no such dataset folder"):
        list_folders(tmp_path / "nothing", "focal-sweep", purpose="-")
    with pytest.raises(NeurofocusError, match=r"is a focal-sweep dataset; videos please \(neurofocus synth --kind "):
        list_folders(scenes, "defocus-video", purpose="videos please")
    assert has_stream(scenes / "scene_00000", "focal-sweep", "events")
    assert not has_stream(scenes / "scene_00000", "focal-sweep", "spikes")


def test_sample_helpers_read_a_sample_folder_and_nothing_else(scenes, tmp_path):
    scene = scenes / "scene_00001"
    sample = datasets.load_sample(scene)
    assert is_sample_folder(scene) and not is_sample_folder(tmp_path)
    assert sample_image_time(scene) == sample.sweep.image_time_us and sample_image_time(tmp_path) is None
    assert np.array_equal(sample_ground_truth(scene), sample.sweep.ground_truth.all_in_focus)
    assert sample_ground_truth(tmp_path) is None
    times, focus = sample_focus_schedule(scene)
    order = np.argsort(sample.frame_times_us)
    assert np.array_equal(times, sample.frame_times_us[order]) and np.array_equal(focus, sample.focus_m[order])
    assert sample_focus_schedule(tmp_path) is None
    (tmp_path / "sample.json").write_text("{oops")
    with pytest.raises(NeurofocusError, match="sample.json: not valid JSON"):
        sample_image_time(tmp_path)


def test_jsonable():
    @dataclasses.dataclass
    class Point:
        x: float
        tags: tuple

    assert jsonable({"p": Point(np.float32(0.5), (1, np.int64(2)))}) == {"p": {"x": 0.5, "tags": [1, 2]}}
    assert json.dumps(jsonable((np.bool_(True),))) == "[true]"




def test_only_the_datasets_package_names_the_folder_files():
    """No other module opens sample.json, truth.npz, sequence.json or frames.npz (a string literal naming one that is
    not a docstring)."""
    import ast
    from pathlib import Path

    package = Path(datasets.__file__).parents[1]
    files = {"sample.json", "truth.npz", "sequence.json", "frames.npz"}
    found = set()
    for path in package.rglob("*.py"):
        name = path.relative_to(package).as_posix()
        if name.startswith("datasets/"):
            continue
        tree = ast.parse(path.read_text())
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)}
        found |= {name for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and node.value in files and id(node) not in docstrings}
    assert found == set()
