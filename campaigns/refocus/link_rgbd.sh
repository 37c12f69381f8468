#!/bin/sh
# The campaign's split of the six Middlebury photographs (../shared/data/rgbd) as folders of links: OUT/rgbd-train
# (teddy, dolls, laundry, moebius) and OUT/rgbd-val (art and books, held out), for `neurofocus synth --rgbd`.
# Usage: sh campaigns/refocus/link_rgbd.sh RGBD_DIR OUT_DIR
set -e
rgbd=$(cd "${1:?usage: link_rgbd.sh RGBD_DIR OUT_DIR}" && pwd)
out=${2:?usage: link_rgbd.sh RGBD_DIR OUT_DIR}
mkdir -p "$out/rgbd-train" "$out/rgbd-val"
for scene in middlebury2003_teddy middlebury2005_dolls middlebury2005_laundry middlebury2005_moebius; do
    ln -sfn "$rgbd/$scene" "$out/rgbd-train/$scene"
done
for scene in middlebury2005_art middlebury2005_books; do
    ln -sfn "$rgbd/$scene" "$out/rgbd-val/$scene"
done
