#!/bin/sh
# The refocus campaign's one prepared GPU run: the papers' network size (dense two-branch U-Net, width 1.0, 64 time
# bins, 128-px crops) for events and for spikes, trained on a GPU machine in under 10 minutes, its data made on
# that machine's own cores. Nothing in it is GPU-only: with SCALE=tiny it runs on a CPU in a few minutes (the check
# that the script works before device time is spent on it).
#
#   data   (about 2 minutes on 16 cores)  the stage-1/2/3 mix at a third of its size, same generators and seeds:
#          Kodak-textured random scenes (mixed sensors), noise-free ideal events, sweeps of the four training
#          Middlebury photographs, nearly-in-focus scenes; validation: the held-out art and books sweeps
#   train  (TRAIN_S seconds each, events and spikes at once, sharing the GPU and the cores' data loaders)
#   out    OUT/events.safetensors and OUT/spikes.safetensors (float16, the newest checkpoint's weights) and
#          OUT/runs.tar (each run's config.json, data.json, log.csv and training log)
#
# The weights come back to be measured on the CPU machine against the shipped compact networks
# (neurofocus bench aif --rgbd with --event-networks / --spike-networks); they ship only if they measure better
# and saw at least 400k samples (see campaigns/refocus/README.md).
#
# Usage: sh campaigns/refocus/gpu_run.sh TEXTURES_DIR RGBD_DIR OUT_DIR
#   With the device tool the shared data does not travel: copy ../shared/data/textures/kodak and
#   ../shared/data/rgbd into an ignored folder of the checkout (listed in .git/info/exclude) and carry it. The
#   checkout itself must stay under the tool's 64 MiB: move src/neurofocus/weights/vgg16.safetensors (not used:
#   the perceptual weight is 0) and the campaigns' checkpoints/ folders out of the tree for the call, and back after.
# Settings by environment: TRAIN_S (default 240), WORKERS (data-loading processes per run, default 6), SCALE=tiny
# (a CPU check: 2 scenes per set, 64x48, 20 steps).
set -e
textures=$(cd "${1:?usage: gpu_run.sh TEXTURES_DIR RGBD_DIR OUT_DIR}" && pwd)
rgbd=$(cd "${2:?usage: gpu_run.sh TEXTURES_DIR RGBD_DIR OUT_DIR}" && pwd)
out=${3:?usage: gpu_run.sh TEXTURES_DIR RGBD_DIR OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
train_s=${TRAIN_S:-240}
workers=${WORKERS:-6}
data=${DATA_DIR:-/tmp/refocus-gpu-data}
mkdir -p "$out"
sh "$here/link_rgbd.sh" "$rgbd" "$data"

python3 -c "import neurofocus._kernels" 2>/dev/null || python3 setup.py -q build_ext --inplace
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
nf="python3 -m neurofocus.cli"

if [ "$SCALE" = tiny ]; then
    n_random=2; n_clean=2; n_real=2; n_sharp=2; n_val=2; size=64x48; steps=20; crop=32; batch=2; frames=48
else
    n_random=20; n_clean=6; n_real=8; n_sharp=8; n_val=4; size=240x180; steps=1000000; crop=128; batch=16; frames=240
fi

start=$(date +%s)
common="--size $size --frames $frames --frame-rate 240 --keep-every 2 --direction random --with-spikes"
noisy="--event-model mixed --ideal-noise"
$nf --quiet synth $common $noisy --max-blur 10,30 --textures "$textures" --scenes $n_random --seed 100 \
    --out "$data/random"
$nf --quiet synth $common --event-model ideal --max-blur 10,30 --textures "$textures" --scenes $n_clean --seed 300 \
    --out "$data/clean"
$nf --quiet synth $common $noisy --max-blur 10,30 --rgbd "$data/rgbd-train" --scenes $n_real --seed 200 \
    --out "$data/real"
$nf --quiet synth $common $noisy --max-blur 2,8 --textures "$textures" --scenes $n_sharp --seed 400 \
    --out "$data/sharp"
$nf --quiet synth $common $noisy --max-blur 10,30 --rgbd "$data/rgbd-val" --scenes $n_val --seed 9200 \
    --out "$data/real-val"
echo "data: $(($(date +%s) - start)) s"

for modality in events spikes; do
    bins=$([ $modality = events ] && echo event_bins || echo spike_bins)
    python3 - "$here/settings-$modality.json" "$out/settings-$modality.json" "$bins" <<'EOF'
import json, sys
settings = json.load(open(sys.argv[1]))
settings.update(width=1.0, model_options={"trunk": "dense", "nfs": {"kind": sys.argv[3], "num_bins": 64}},
                threads=0, val_every=250, checkpoint_every=250)
json.dump(settings, open(sys.argv[2], "w"), indent=1)
EOF
    $nf train refocus --config "$out/settings-$modality.json" --out "$out/$modality" --device auto \
        --precision bf16 --crop $crop --batch $batch --steps $steps --num-workers $workers --seed 7 \
        --data "$data/random" "$data/clean" "$data/real" "$data/sharp" --val-data "$data/real-val" \
        --time-budget-s "$train_s" --keep-checkpoints 1 --no-progress > "$out/train-$modality.log" 2>&1 &
done
wait
# back: float16 weights of the newest checkpoint (a width-1.0 network is 18 MB in float32, over what one file may
# be), and the runs' configs and logs in one archive
python3 - "$out" <<'EOF2'
import json, sys
from pathlib import Path
from neurofocus.models import load_model, save_weights
out = Path(sys.argv[1])
for modality in ("events", "spikes"):
    run = out / modality
    latest = json.loads((run / "checkpoints" / "latest.json").read_text())
    weights = run / "checkpoints" / latest["folder"] / "model.safetensors"
    save_weights(load_model(weights), out / f"{modality}.safetensors", {"step": latest["step"]}, half=True)
    print(modality, "step", latest["step"])
EOF2
for modality in events spikes; do
    tail -n 2 "$out/$modality/log.csv"
    rm -rf "$out/$modality/checkpoints"
done
tar -C "$out" -cf "$out/runs.tar" events spikes train-events.log train-spikes.log settings-events.json \
    settings-spikes.json && rm -rf "$out/events" "$out/spikes" "$out"/*.log "$out"/settings-*.json
echo "total: $(($(date +%s) - start)) s"
