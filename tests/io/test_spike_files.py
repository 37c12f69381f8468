"""PKU Vidar .dat bit layout, built by hand from the format description."""

import json

import numpy as np
import pytest

from neurofocus.io import load_spikes


def vidar_bytes(frames, extra_columns=0):
    """Pack (T, H, W) frames the Vidar way, independently of the reader: rows bottom-up, row-major pixel index,
    bit = index % 8 least significant first; optional extra (zero) columns per row."""
    t, h, w = frames.shape
    stored = np.zeros((t, h, w + extra_columns), np.uint8)
    stored[:, :, :w] = frames[:, ::-1, :]
    out = bytearray()
    for frame in stored:
        flat = frame.ravel()
        for start in range(0, len(flat), 8):
            out.append(sum(int(bit) << i for i, bit in enumerate(flat[start:start + 8])))
    return bytes(out)


def test_single_spike_top_left_is_the_last_stored_row():
    frames = np.zeros((1, 4, 8), np.uint8)
    frames[0, 0, 0] = 1  # top-left pixel
    raw = vidar_bytes(frames)
    assert raw == bytes(3) + b"\x01"  # stored in the last row (bottom-up), bit 0 of its first byte


@pytest.mark.parametrize("extra", [0, 16])
def test_reader_matches_hand_packing(tmp_path, extra):
    rng = np.random.default_rng(0)
    frames = (rng.random((5, 6, 40)) < 0.3).astype(np.uint8)
    path = tmp_path / "rec.dat"
    path.write_bytes(vidar_bytes(frames, extra))
    sp = load_spikes(path, size=(6, 40), tick_us=25.0, extra_columns=extra)
    assert sp.shape == (5, 6, 40) and sp.tick_us == 25.0
    assert np.array_equal(sp.frames(), frames.astype(bool))


def test_416_column_files_drop_the_head(tmp_path):
    frames = (np.random.default_rng(2).random((3, 5, 400)) < 0.2).astype(np.uint8)
    path = tmp_path / "rec.dat"
    path.write_bytes(vidar_bytes(frames, 16))
    for size in ((5, 416), (5, 400)):  # stated with or without the head: the size identifies it here
        sp = load_spikes(path, size=size, tick_us=50)
        assert sp.shape == (3, 5, 400) and np.array_equal(sp.frames(), frames.astype(bool))


def test_ambiguous_head_is_reported(tmp_path):
    frames = np.zeros((5, 6, 40), np.uint8)  # 210 bytes: 7 plain frames or 5 frames with a head
    path = tmp_path / "rec.dat"
    path.write_bytes(vidar_bytes(frames, 16))
    with pytest.warns(UserWarning, match="with or without"):
        assert load_spikes(path, size=(6, 40)).num_ticks == 7


def test_sidecar_gives_size_and_tick(tmp_path):
    frames = (np.random.default_rng(1).random((3, 4, 16)) < 0.5).astype(np.uint8)
    path = tmp_path / "rec.dat"
    path.write_bytes(vidar_bytes(frames))
    (tmp_path / "rec.json").write_text(json.dumps({"height": 4, "width": 16, "tick_us": 50, "start_us": 10}))
    sp = load_spikes(path)
    assert sp.tick_us == 50 and sp.start_us == 10
    assert np.array_equal(sp.frames(), frames.astype(bool))
