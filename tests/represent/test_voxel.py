import numpy as np

from neurofocus.represent import normalize_voxel_grid, voxel_grid
from neurofocus.types import Events

from ..conftest import random_events


def test_hand_computed_interpolation():
    # 3 events over [0, 100] µs, B = 5: t* = 0, 2, 4 -> bins 0, 2 and 4 (the last event is kept: B - 1 scaling)
    ev = Events.from_arrays([0, 50, 100], [0, 1, 2], [0, 0, 0], [1, 0, 1], (3, 1))
    grid = voxel_grid(ev, 5, normalize=False)
    expected = np.zeros((5, 1, 3), np.float32)
    expected[0, 0, 0], expected[2, 0, 1], expected[4, 0, 2] = 1, -1, 1
    assert np.allclose(grid, expected)
    # an event at t* = 1.25 splits 0.75 / 0.25 between bins 1 and 2
    ev = Events.from_arrays([0, 25, 80], [0, 1, 2], [0, 0, 0], [1, 1, 1], (3, 1))
    grid = voxel_grid(ev, 5, normalize=False)
    assert np.isclose(grid[1, 0, 1], 0.75) and np.isclose(grid[2, 0, 1], 0.25)


def test_mass_is_conserved_and_normalisation_is_over_nonzeros():
    ev = random_events(5000, (32, 24), seed=4)
    raw = voxel_grid(ev, 5, normalize=False)
    assert np.isclose(raw.sum(), ev.p.sum(), atol=1e-3)
    grid = voxel_grid(ev, 5)
    nonzero = raw != 0
    assert np.array_equal(grid != 0, nonzero)
    assert abs(grid[nonzero].mean()) < 1e-5 and abs(grid[nonzero].std() - 1) < 1e-4


def test_degenerate_grids():
    assert not normalize_voxel_grid(np.zeros((5, 2, 2))).any()
    same = normalize_voxel_grid(np.full((2, 2, 2), 3.0))
    assert np.all(same == 0)  # zero std: centred only, no division by zero
    ev = Events.from_arrays([7, 7], [0, 1], [0, 0], [1, 1], (2, 1))  # zero duration
    assert np.allclose(voxel_grid(ev, 5, normalize=False)[0], 1)
