"""Learning curves of training runs: the validation rows of each run's ``log.csv`` as one Markdown table.

Run:  python benchmarks/learning_curves.py campaigns/evfocus/*/

Columns: run, step, frame-steps and samples seen, core-seconds (CPU seconds of the training process, all
invocations), validation SSIM / LPIPS / MSE / PSNR (the run's held-out sequences, fp32, whole frames), and the last
logged step of the run (its checkpoint may be later than its last validation).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def curve_rows(run: Path) -> tuple[list[dict], dict]:
    """(validation rows, last row) of a run folder's ``log.csv``."""
    from neurofocus.train import read_log

    rows = read_log(run / "log.csv")
    return [r for r in rows if r.get("val_ssim")], (rows[-1] if rows else {})


def table(runs) -> str:
    lines = ["| run | step | frame-steps | samples | core-s | val SSIM ↑ | val LPIPS ↓ | val MSE ↓ | val PSNR |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for run in runs:
        rows, last = curve_rows(Path(run))
        for r in rows:
            lines.append(f"| {Path(run).name} | {r['step']} | {int(r['frame_steps']):,} | {int(r['samples']):,} | "
                         f"{float(r['core_seconds']):.0f} | {float(r['val_ssim']):.3f} | {float(r['val_lpips']):.3f} | "
                         f"{float(r['val_mse']):.4f} | {float(r['val_psnr']):.2f} |")
        if last:
            lines.append(f"| {Path(run).name} (last step) | {last['step']} | {int(last['frame_steps']):,} | "
                         f"{int(last['samples']):,} | {float(last['core_seconds']):.0f} | | | | |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", type=Path, help="run folders (with log.csv)")
    args = p.parse_args(argv)
    print(table(args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
