"""Simulation: optics and layered scenes, focal-sweep rendering, event and spike sensors, datasets.

Main entry points: :func:`~.scene.random_scene`, :class:`~.focal_sweep.SceneSweep` (and the sources in
:mod:`.sources`), :func:`~.focal_sweep.simulate_focal_sweep`, the sensor simulators
:class:`~.dvs_voltmeter.DvsVoltmeter`, :class:`~.ideal_events.IdealEventSimulator`,
:class:`~.spikes.SpikeSimulator`, and :func:`~.dataset.synthesize`.
"""

from .dvs_voltmeter import DvsVoltmeter, VoltmeterParams, simulate_dvs_voltmeter
from .focal_sweep import SceneSweep, SensorSetup, SimulatedSweep, simulate_focal_sweep
from .ideal_events import IdealEventSimulator, IdealParams, simulate_ideal_events
from .optics import ThinLens
from .patterns import moving_bars_events
from .scene import Scene, random_scene
from .spikes import SpikeParams, SpikeSimulator, simulate_spikes
from .sweep import FocusSchedule, SweepSpec, focus_schedule

__all__ = ["DvsVoltmeter", "FocusSchedule", "IdealEventSimulator", "IdealParams", "Scene", "SceneSweep",
           "SensorSetup", "SimulatedSweep", "SpikeParams", "SpikeSimulator", "SweepSpec", "ThinLens",
           "VoltmeterParams", "focus_schedule", "moving_bars_events", "random_scene", "simulate_dvs_voltmeter",
           "simulate_focal_sweep", "simulate_ideal_events", "simulate_spikes"]
