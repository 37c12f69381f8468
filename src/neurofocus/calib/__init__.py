"""Hybrid-rig calibration: camera models, checkerboard detection, RGB↔sensor registration."""
