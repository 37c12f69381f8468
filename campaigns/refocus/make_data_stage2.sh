#!/bin/sh
# The refocus campaign's stage-2 data, beside make_data.sh's (stage 1): what the stage-1 networks had not seen.
#   clean      random layered Kodak-textured scenes with noise-free ideal events (stage 1's ideal events all carry
#              mismatch, leak and shot noise; on noise-free events a stage-1 network refocused worse than the
#              hand-crafted method)
#   real       sweeps rendered from four of the six real Middlebury photographs with dense depth (teddy, dolls,
#              laundry, moebius), randomly scaled, cropped and flipped, mixed sensors
#   real-val   the same from the two held-out photographs (art, books): validation only
# Same size, frames, blur range and sweep settings as stage 1; spikes in every scene. Deterministic (the same seeds
# give the same scenes on any machine; the data are not committed).
# Usage: sh campaigns/refocus/make_data_stage2.sh OUT_DIR [TEXTURES_DIR] [RGBD_DIR]
set -e
out=${1:?usage: make_data_stage2.sh OUT_DIR [TEXTURES_DIR] [RGBD_DIR]}
textures=${2:-../shared/data/textures/kodak}
sh "$(dirname "$0")/link_rgbd.sh" "${3:-../shared/data/rgbd}" "$out"
common="--size 240x180 --frames 240 --frame-rate 240 --keep-every 2 --max-blur 10,30 --direction random
        --with-spikes --workers 1"
neurofocus synth $common --event-model mixed --ideal-noise --rgbd "$out/rgbd-val" --scenes 6 --seed 9200 \
    --out "$out/real-val"
neurofocus synth $common --event-model mixed --ideal-noise --rgbd "$out/rgbd-train" --scenes 24 --seed 200 \
    --out "$out/real"
neurofocus synth $common --event-model ideal --textures $textures --scenes 16 --seed 300 --out "$out/clean"
