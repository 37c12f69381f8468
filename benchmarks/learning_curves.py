"""Learning curves of training runs: the validation rows of each run's ``log.csv`` as one Markdown table.

Run:  python benchmarks/learning_curves.py campaigns/evfocus/*/ campaigns/refocus/*/

Video runs (EvFocus, E2VID): run, step, frame-steps and samples seen, core-seconds (CPU seconds of the training
process, all invocations), validation SSIM / LPIPS / MSE / PSNR (the run's held-out sequences, fp32, whole frames).
Refocus runs: run, step, samples, core-seconds, validation PSNR of the network's refocus, of the hand-crafted refocus
and of the input frame against the target frames, and the in-focus PSNRs (the error weighted by the focus map of
the target time) of the network and the hand-crafted refocus. Each table ends a run with its last logged step (its
checkpoint may be later than its last validation).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def curve_rows(run: Path, column: str) -> tuple[list[dict], dict]:
    """(rows with a value in ``column``, last row) of a run folder's ``log.csv``."""
    from neurofocus.train import read_log

    rows = read_log(run / "log.csv")
    return [r for r in rows if r.get(column)], (rows[-1] if rows else {})


#: (header, the column marking validation rows, cells of a validation row) per kind of run.
KINDS = {
    "video": ("| run | step | frame-steps | samples | core-s | val SSIM ↑ | val LPIPS ↓ | val MSE ↓ | val PSNR |",
              "val_ssim",
              lambda r: [f"{int(r['frame_steps']):,}", f"{int(r['samples']):,}", f"{float(r['core_seconds']):.0f}",
                         f"{float(r['val_ssim']):.3f}", f"{float(r['val_lpips']):.3f}", f"{float(r['val_mse']):.4f}",
                         f"{float(r['val_psnr']):.2f}"]),
    "refocus": ("| run | step | samples | core-s | val PSNR | hand-crafted | input | in-focus PSNR | "
                "in-focus hand-crafted |",
                "val_psnr_infocus",
                lambda r: [f"{int(r['samples']):,}", f"{float(r['core_seconds']):.0f}"]
                + [f"{float(r[c]):.2f}" for c in ("val_psnr", "val_psnr_handcrafted", "val_psnr_input",
                                                  "val_psnr_infocus", "val_psnr_infocus_handcrafted")]),
}


def _kind(run: Path) -> str:
    from neurofocus.train import read_log

    rows = read_log(run / "log.csv")
    return "refocus" if rows and "val_psnr_infocus" in rows[0] else "video"


def table(runs) -> str:
    """One Markdown table per kind of run among ``runs``."""
    tables = []
    for kind, (header, column, cells) in KINDS.items():
        chosen = [Path(run) for run in runs if _kind(Path(run)) == kind]
        if not chosen:
            continue
        width = header.count("|") - 1
        lines = [header, "|---|" + "---:|" * (width - 1)]
        for run in chosen:
            rows, last = curve_rows(run, column)
            lines += [f"| {run.name} | {r['step']} | " + " | ".join(cells(r)) + " |" for r in rows]
            if last:
                lines.append(f"| {run.name} (last step) | {last['step']} |" + " |" * (width - 2))
        tables.append("\n".join(lines))
    return "\n\n".join(tables)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", type=Path, help="run folders (with log.csv)")
    args = p.parse_args(argv)
    print(table(args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
