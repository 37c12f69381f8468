"""Simulation: optics and layered scenes, focal-sweep rendering, event and spike sensors, defocused videos.

Main entry points: :func:`~.scene.random_scene`, :class:`~.focal_sweep.SceneSweep` (and the sources in
:mod:`.sources`), :func:`~.focal_sweep.simulate_focal_sweep`, the sensor simulators
:class:`~.dvs_voltmeter.DvsVoltmeter`, :class:`~.ideal_events.IdealEventSimulator`,
:class:`~.spikes.SpikeSimulator`, and what one item of a dataset holds (:mod:`.dataset`,
:mod:`.defocus_video`); the dataset folders themselves are :mod:`neurofocus.datasets`'.
"""

_EXPORTS = {"DvsVoltmeter": "dvs_voltmeter", "VoltmeterParams": "dvs_voltmeter", "simulate_dvs_voltmeter": "dvs_voltmeter",
            "SceneSweep": "focal_sweep", "SensorSetup": "focal_sweep", "SimulatedSweep": "focal_sweep",
            "simulate_focal_sweep": "focal_sweep", "IdealEventSimulator": "ideal_events", "IdealParams": "ideal_events",
            "simulate_ideal_events": "ideal_events", "ThinLens": "optics", "moving_bars_events": "patterns",
            "Scene": "scene", "random_scene": "scene", "SpikeParams": "spikes", "SpikeSimulator": "spikes",
            "simulate_spikes": "spikes", "FocusSchedule": "sweep", "SweepSpec": "sweep", "focus_schedule": "sweep"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """The names above, each imported on first use (``simulate-events`` needs neither the renderer nor scipy)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
