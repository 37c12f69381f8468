"""Small simulated sweeps shared by the all-in-focus tests (seeded, so the tests are deterministic)."""

import numpy as np
import pytest

from neurofocus.simulate.focal_sweep import SceneSweep, SensorSetup, simulate_focal_sweep
from neurofocus.simulate.ideal_events import IdealParams
from neurofocus.simulate.optics import ThinLens
from neurofocus.simulate.scene import scene_from_description
from neurofocus.simulate.spikes import SpikeParams
from neurofocus.simulate.sweep import SweepSpec, focus_schedule

SMALL_SCENES = [
    {"size": [160, 120], "background": {"texture": "brick", "depth_m": 2.3},
     "objects": [{"shape": "ellipse", "center": [50, 50], "size": [70, 60], "depth_m": 1.85, "texture": "astronaut"},
                 {"shape": "rectangle", "center": [115, 40], "size": [60, 50], "depth_m": 2.05, "texture": "text"},
                 {"shape": "rectangle", "center": [105, 95], "size": [60, 40], "depth_m": 1.95, "texture": "coffee"}]},
    {"size": [160, 120], "background": {"texture": "grass", "depth_m": 2.4},
     "objects": [{"shape": "star", "center": [45, 70], "size": [70, 70], "depth_m": 1.9, "texture": "checker"},
                 {"shape": "ellipse", "center": [115, 60], "size": [70, 80], "depth_m": 2.1, "texture": "chelsea"}]},
]


def simulate_small(description, image_frame=15, num_frames=120):
    lens = ThinLens()
    scene = scene_from_description(description, lens, seed=0)
    schedule = focus_schedule(SweepSpec(num_frames=num_frames, frame_rate_hz=240.0, image_frame=image_frame),
                              scene.near_m, scene.far_m, np.random.default_rng(0))
    setup = SensorSetup(ideal=IdealParams(), spikes=SpikeParams(), tick_us=50.0)
    return simulate_focal_sweep(SceneSweep(scene, lens, schedule), setup, seed=0).sweep


@pytest.fixture(scope="session")
def small_sweeps():
    return [simulate_small(d) for d in SMALL_SCENES]


@pytest.fixture(scope="session")
def ideal_sweep(small_sweeps):
    return small_sweeps[0]
