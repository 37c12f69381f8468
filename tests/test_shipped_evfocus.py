"""The shipped EvFocus and E2VID weights: strict loading, a pinned output on a tiny generated stream, and
``neurofocus evfocus`` without weight flags."""

import json

import numpy as np
import pytest

from neurofocus.images import read_image
from neurofocus.io import save_events
from neurofocus.types import Events

from .conftest import run_cli as run

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

#: Mean of each output frame and the last frame at PIXELS, for the stream of :func:`moving_edge` with windows of
#: 400 events (float32 on CPU; the weights are float16, so only kernels' rounding may differ).
PINNED = {
    "evfocus": {"means": [0.45107, 0.3953, 0.37428, 0.36683, 0.3616, 0.36662],
                "pixels": [0.3628, 0.3604, 0.3339, 0.4369, 0.3494]},
    "e2vid": {"means": [0.39811, 0.36181, 0.34094, 0.32486, 0.31297, 0.30848],
              "pixels": [0.2463, 0.294, 0.3026, 0.4474, 0.2846]},
}
PIXELS = ((5, 3), (15, 20), (15, 30), (25, 36), (10, 12))


def moving_edge(width: int = 40, height: int = 30) -> Events:
    """A bright bar 6 px wide moving right by 1 px every 1 ms over a dark background: ON events at its leading edge,
    OFF events at its trailing edge, one per row and column crossing."""
    t, x, y, p = [], [], [], []
    for step in range(width):
        for row in range(height):
            t += [1000 * step + row, 1000 * step + row]
            x += [step, step - 6]
            y += [row, row]
            p += [1, 0]
    keep = np.asarray(x) >= 0
    return Events.from_arrays(np.asarray(t)[keep], np.asarray(x)[keep], np.asarray(y)[keep], np.asarray(p)[keep],
                              (width, height))


@pytest.mark.parametrize("method", ["evfocus", "e2vid"])
def test_shipped_weights_load_strictly_and_reproduce_the_pinned_output(method):
    from neurofocus.cli.evfocus import _shipped_weights
    from neurofocus.models import create_model, load_model, load_weights, read_metadata
    from neurofocus.models.recurrent import reconstruct_sequence

    path = _shipped_weights(method)
    assert path is not None and path.stat().st_size < 5_000_000
    meta = read_metadata(path)
    assert meta["model"] == method and meta["dtype"] == "float16" and meta["config"]["integrator"]
    model = load_model(path)
    again = load_weights(create_model(method, **meta["config"]), path)  # strict: every tensor, exact shapes
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    torch.manual_seed(0)
    frames = np.stack([image for _, image in reconstruct_sequence(model, moving_edge(), window_events=400)])
    assert frames.shape == (len(PINNED[method]["means"]), 30, 40)
    np.testing.assert_allclose(frames.mean(axis=(1, 2)), PINNED[method]["means"], atol=1e-4)
    np.testing.assert_allclose([frames[-1][p] for p in PIXELS], PINNED[method]["pixels"], atol=1e-3)
    assert frames[-1][:, 34:].mean() > frames[-1][:, :28].mean() + 0.05  # the bar (x 34..39) stays brighter


@pytest.mark.parametrize("method", ["evfocus", "e2vid"])
def test_evfocus_command_runs_with_the_shipped_weights(capsys, tmp_path, method):
    save_events(tmp_path / "ev.h5", moving_edge())
    code, out, err = run(capsys, "evfocus", "--events", tmp_path / "ev.h5", "--method", method, "--out",
                         tmp_path / "o")
    assert code == 0, err
    result = json.loads((tmp_path / "o" / "result.json").read_text())
    assert result["weights"].endswith(f"{method}.safetensors") and result["num_frames"] == 30
    last = read_image(tmp_path / "o" / "frames" / result["frames"][-1])
    assert last.shape == (30, 40, 3) and last.std() > 0.01
