"""Package a trained network from a ``neurofocus train`` run as a shipped float16 weight file.

Run:  python tools/ship_network.py RUN_DIR NAME [--weights FILE] --command "neurofocus train ..." --recipe TEXT

Reads RUN_DIR/model.safetensors (or --weights, e.g. a checkpoint's), and writes src/neurofocus/weights/NAME.safetensors
in float16 with the run's provenance in the metadata (``user``): the training settings (RUN_DIR/config.json), the
command, the dataset recipe (--recipe, and the dataset's config.json), the validation rows of RUN_DIR/log.csv, the
torch version and the sha256 of the float32 source. Prints the file's size and sha256 for the
model card in src/neurofocus/weights/README.md. NAME must be one of the names in ``neurofocus.aif.learned.SHIPPED``
or a network method of ``neurofocus evfocus`` (evfocus, e2vid).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "neurofocus" / "weights"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def validation_rows(log: Path) -> list[dict]:
    """The step, samples, core-seconds and validation columns of the rows of a run's log.csv that carry a
    validation PSNR."""
    with log.open() as f:
        return [{k: v for k, v in row.items() if k in ("step", "samples", "core_seconds") or k.startswith("val_")}
                for row in csv.DictReader(f) if row.get("val_psnr")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("name")
    parser.add_argument("--weights", type=Path, help="a checkpoint's weights instead of RUN_DIR/model.safetensors")
    parser.add_argument("--command", required=True, help="the training command, as run")
    parser.add_argument("--recipe", required=True, help="how the training data was made (commands)")
    args = parser.parse_args()

    import torch

    from neurofocus.aif.learned import SHIPPED
    from neurofocus.cli.evfocus import METHODS
    from neurofocus.models import load_model, save_weights
    from neurofocus.train.items import dataset_settings

    names = {n for pair in SHIPPED.values() for n in pair} | {m for m, model in METHODS.items() if model}
    if args.name not in names:
        raise SystemExit(f"{args.name}: not a shipped name ({', '.join(sorted(names))})")
    source = args.weights or args.run / "model.safetensors"
    model = load_model(source)
    config = json.loads((args.run / "config.json").read_text())
    recipe = dataset_settings(config["data"])
    metadata = {"source": "trained by the neurofocus project with neurofocus train (tools/ship_network.py)",
                "training_config": config, "command": args.command, "dataset_recipe": args.recipe,
                "dataset_config": recipe,
                "validation": validation_rows(args.run / "log.csv"), "torch": torch.__version__,
                "source_sha256": sha256(source), "licence": "same as neurofocus"}
    out = save_weights(model, OUT / f"{args.name}.safetensors", metadata, half=True)
    print(f"{out}: {out.stat().st_size:,} bytes, sha256 {sha256(out)}, {model.name} width {model.config.width:g}, "
          f"{sum(p.numel() for p in model.parameters()):,} parameters")


if __name__ == "__main__":
    main()
