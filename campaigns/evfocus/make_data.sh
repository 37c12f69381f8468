#!/bin/sh
# The campaign's data (about 560 MB, 4 minutes on one core): training, validation and test sets of defocused-event
# videos with Kodak textures. Deterministic: the same seeds give the same sequences on any machine.
# Usage: sh campaigns/evfocus/make_data.sh OUT_DIR [TEXTURES_DIR]
set -e
out=${1:?usage: make_data.sh OUT_DIR [TEXTURES_DIR]}
textures=${2:-../shared/data/textures/kodak}
common="--kind defocus-video --size 128x96 --frames 60 --textures $textures --workers 1"
neurofocus synth $common --scenes 160 --seed 0 --out "$out/train"
neurofocus synth $common --scenes 6 --seed 1000 --out "$out/val"
neurofocus synth $common --scenes 8 --seed 9000 --out "$out/test" --sharp-events
