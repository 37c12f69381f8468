"""Board images made from neuromorphic recordings, and corner detection on them."""

import numpy as np
import pytest

from neurofocus.calib.boards import (Board, aps_board_image, event_board_image, find_corners, grid_orderings,
                                     spike_board_image, to_gray8)
from neurofocus.errors import NeurofocusError
from neurofocus.io.aedat4 import ApsFrame
from neurofocus.simulate.focal_sweep import SensorSetup
from neurofocus.simulate.ideal_events import IdealEventSimulator, IdealParams
from neurofocus.simulate.rig import (BACKGROUND, board_points, board_views, default_rig, flashing_board_events,
                                     project, render_board, static_board_spikes)
from neurofocus.simulate.spikes import SpikeParams

BOARD = Board(9, 6, 20.0)


@pytest.fixture(scope="module")
def scene():
    rig = default_rig((240, 180), seed=5)
    pose = board_views(rig, (9, 6), 20.0, 1, seed=5)[0]
    on = render_board(rig.sensor, pose, (9, 6), 20.0)
    truth = project(rig.sensor, pose.to_sensor_frame(board_points((9, 6), 20.0)))
    return rig, pose, on, truth


def matched_error(found, truth):
    """Mean corner distance in whichever of the grid orders fits (detectors may start at either end)."""
    return min(np.linalg.norm(c - truth, axis=1).mean() for c in grid_orderings(found, BOARD))


def test_flash_image_finds_the_board(scene):
    rig, pose, on, truth = scene
    off = render_board(rig.sensor, pose, (9, 6), 20.0, screen_on=False)
    events = flashing_board_events(on, off, SensorSetup(ideal=IdealParams()), seed=1)
    corners = find_corners(to_gray8(event_board_image(events, "flash")), BOARD)
    assert corners is not None and matched_error(corners, truth) < 0.5


def test_integrated_image_of_a_board_moved_into_view(scene):
    """The view is empty (background) at first; the board slides in from the left and stops."""
    _, _, on, truth = scene
    width = on.shape[1]
    frames = [np.full_like(on, BACKGROUND)]
    for shift in range(width // 2, -1, -8):
        frame = np.full_like(on, BACKGROUND)
        frame[:, : width - shift] = on[:, shift:]
        frames.append(frame)
    frames.append(on)
    sim = IdealEventSimulator((on.shape[1], on.shape[0]), IdealParams(threshold_sigma=0.0), seed=0)
    events = sim.feed(np.stack(frames), np.arange(len(frames)) * 1000.0)
    corners = find_corners(to_gray8(event_board_image(events, "integrate")), BOARD)
    assert corners is not None and matched_error(corners, truth) < 0.5


def test_aps_and_spike_images(scene):
    _, _, on, truth = scene
    rng = np.random.default_rng(0)
    frames = [ApsFrame(i * 10_000, (0, 0), np.clip(on * 255 + rng.normal(0, 8, on.shape), 0, 255).astype(np.uint8))
              for i in range(5)]
    corners = find_corners(to_gray8(aps_board_image(frames)), BOARD)
    assert corners is not None and matched_error(corners, truth) < 0.3
    spikes = static_board_spikes(on, SensorSetup(spikes=SpikeParams(max_rate=0.5), tick_us=100.0), ticks=100, seed=0)
    corners = find_corners(to_gray8(spike_board_image(spikes)), BOARD)
    assert corners is not None and matched_error(corners, truth) < 0.5


def test_nothing_to_see_is_a_clear_error():
    assert find_corners(np.full((60, 80), 128, np.uint8), BOARD) is None
    with pytest.raises(NeurofocusError, match="uniform"):
        to_gray8(np.zeros((60, 80)))
    with pytest.raises(NeurofocusError, match="no APS frames"):
        aps_board_image([])
    with pytest.raises(NeurofocusError, match="must be one of"):
        event_board_image(flashing_board_events(np.ones((8, 8)), np.zeros((8, 8)), SensorSetup(ideal=IdealParams())),
                          "blink")
