#!/bin/sh
# The refocus campaign's data: focal sweeps of random layered scenes textured with crops of the Kodak photographs,
# 240x180, 240 frames (1 s), both sweep directions, largest blur 10-30 px, events from a sensor drawn per scene
# (DVS-Voltmeter with the papers' random k, its DVS346 preset, ideal events with random thresholds, mismatch,
# refractory period, leak and shot noise: --event-model mixed) and spikes. Deterministic: the same seeds give the
# same scenes on any machine (the data are not committed). About 20 s per scene on one core.
# Usage: sh campaigns/refocus/make_data.sh OUT_DIR [TEXTURES_DIR]
set -e
out=${1:?usage: make_data.sh OUT_DIR [TEXTURES_DIR]}
textures=${2:-../shared/data/textures/kodak}
common="--size 240x180 --frames 240 --frame-rate 240 --keep-every 2 --max-blur 10,30 --direction random --ideal-noise
        --event-model mixed --with-spikes --textures $textures --workers 1"
neurofocus synth $common --scenes 6 --seed 9100 --out "$out/val"
neurofocus synth $common --scenes 56 --seed 100 --out "$out/train"
