"""Whole-command time against the work inside it: how much of a ``neurofocus`` command is start-up.

    python benchmarks/command_overhead.py [--repeat 5] [--sample PATH.aedat4]

Rows (minimum wall time over ``--repeat`` runs, each a fresh process, interleaved):

* ``neurofocus info`` on an AEDAT 4 file, beside a script that reads the same file with the ``aedat`` package (the
  peer a user would pick) and prints its event count;
* ``neurofocus aif`` on a simulated 346×260 sweep (``neurofocus simulate`` output, made once), beside the pipeline's
  own time as the command reports it in ``result.json`` (``runtime_s``: the computation, without imports and
  output writing).

Prints a Markdown table with the ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "data" / "events" / "aedat4" / "sample.aedat4"
PEER = "import sys, aedat\nprint(sum(len(p['events']) for p in aedat.Decoder(sys.argv[1]) if 'events' in p))\n"


def wall(argv: list[str]) -> float:
    """Seconds a fresh process takes to run ``argv`` (it must succeed)."""
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sample", type=Path, default=SAMPLE, help="an AEDAT 4 file")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "neurofocus.cli", "--quiet"]
    with tempfile.TemporaryDirectory() as tmp:
        sim, out = Path(tmp) / "sim", Path(tmp) / "out"
        subprocess.run(cli + ["simulate", "--out", str(sim), "--events", "ideal"], check=True,
                       stdout=subprocess.DEVNULL)
        runs = {"info": cli + ["info", str(args.sample)], "peer": [sys.executable, "-c", PEER, str(args.sample)],
                "aif": cli + ["aif", "--image", str(sim / "image.png"), "--events", str(sim / "events.raw"),
                              "--out", str(out)]}
        wall(runs["aif"])  # compiles and caches the kernels once
        times = {name: [] for name in runs}
        compute = []
        for _ in range(args.repeat):
            for name, argv in runs.items():
                times[name].append(wall(argv))
                if name == "aif":
                    compute.append(json.loads((out / "result.json").read_text())["runtime_s"])
    best = {name: min(v) for name, v in times.items()}
    print("| command | whole command (s) | reference | reference (s) | ratio / overhead |")
    print("|---|---:|---|---:|---:|")
    print(f"| neurofocus info {args.sample.name} | {best['info']:.2f} | script reading it with aedat | "
          f"{best['peer']:.2f} | {best['info'] / best['peer']:.2f}× |")
    print(f"| neurofocus aif (346×260 simulated sweep) | {best['aif']:.2f} | the pipeline's own time | "
          f"{min(compute):.2f} | +{best['aif'] - min(compute):.2f} s |")


if __name__ == "__main__":
    main()
