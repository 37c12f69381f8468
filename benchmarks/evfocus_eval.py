"""EvFocus Table 1 / Table 2 style evaluation of trained EvFocus and E2VID weight files.

Run:  python benchmarks/evfocus_eval.py --data DATASET [--held-out N] --weights A.safetensors --weights B.safetensors

Per model: MSE / SSIM / LPIPS against the sharp frames of simulated defocused-event sequences, per blur level
(the paper's Table 1 layout, models as rows), parameters and model time per frame, and BRISQUE / NIQE on the
real DAVIS346 recordings of the shared data (Table 2). See ``neurofocus.bench.evfocus`` for the definitions.
Prints Markdown (``--output FILE`` also writes it).
"""

import sys

from neurofocus.bench.evfocus import main

if __name__ == "__main__":
    sys.exit(main())
