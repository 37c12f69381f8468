"""Defocused-event videos by job (the entry point and the dataset settings are :mod:`..defocus_video`):
:mod:`.model` the scene (layers, trajectories, the video), :mod:`.render` its frames and exact flow,
:mod:`.simulation` a whole video's frames, ground truth and events, :mod:`.random_scenes` random videos."""
