#!/bin/sh
# The refocus campaign's stage-3 data: sweeps that are nearly in focus everywhere (largest blur 2-8 px), which
# stages 1 and 2 (largest blur 10-30 px) lack. On the held-out Middlebury photograph "art" nearly in focus, the
# stage-1 spike network made the pipeline 2.3 dB worse than the hand-crafted one (40.09 vs 42.41 dB): it sharpens
# what is already sharp. The pipeline must do no harm there.
#   sharp        random layered Kodak-textured scenes, mixed sensors (as stage 1)
#   sharp-real   sweeps rendered from the four training Middlebury photographs (as stage 2's real)
#   sharp-val    validation: Kodak-textured scenes (other seeds) and the two held-out photographs
# Same size, frames and sweep settings as stages 1-2; spikes in every scene. Deterministic.
# Usage: sh campaigns/refocus/make_data_stage3.sh OUT_DIR STAGE2_DIR [TEXTURES_DIR]
#   STAGE2_DIR: the folder make_data_stage2.sh made (its rgbd-train / rgbd-val links are reused)
set -e
out=${1:?usage: make_data_stage3.sh OUT_DIR STAGE2_DIR [TEXTURES_DIR]}
stage2=${2:?usage: make_data_stage3.sh OUT_DIR STAGE2_DIR [TEXTURES_DIR]}
textures=${3:-../shared/data/textures/kodak}
common="--size 240x180 --frames 240 --frame-rate 240 --keep-every 2 --max-blur 2,8 --direction random
        --with-spikes --workers 1 --event-model mixed --ideal-noise"
neurofocus synth $common --textures $textures --scenes 4 --seed 9400 --out "$out/sharp-val"
neurofocus synth $common --rgbd "$stage2/rgbd-val" --scenes 2 --seed 9500 --out "$out/sharp-real-val"
neurofocus synth $common --textures $textures --scenes 16 --seed 400 --out "$out/sharp"
neurofocus synth $common --rgbd "$stage2/rgbd-train" --scenes 8 --seed 500 --out "$out/sharp-real"
