"""Copy NIQE's pristine-image model out of the ``basicsr==1.4.2`` sdist into neurofocus's weights folder.

Usage (from the repository root)::

    pip download basicsr==1.4.2 --no-deps --no-binary :all: --no-build-isolation -d /tmp/x
    python tools/extract_niqe_params.py /tmp/x/basicsr-1.4.2.tar.gz --out src/neurofocus/weights/

``basicsr/metrics/niqe_pris_params.npz`` (Apache-2.0, BasicSR authors) holds the multivariate Gaussian that Mittal,
Soundararajan & Bovik (2013) fitted to the NIQE features of their pristine images (the ``modelparameters.mat`` of the
LIVE MATLAB release): ``mu_pris_param`` (1, 36), ``cov_pris_param`` (36, 36) and the 7x7 Gaussian window
``gaussian_window`` (σ = 7/6). The file is copied byte for byte after checking that it is a plain npz (no pickled
objects) with exactly these arrays.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import tarfile
from pathlib import Path

import numpy as np

MEMBER = "basicsr/metrics/niqe_pris_params.npz"
EXPECTED = {"mu_pris_param": (1, 36), "cov_pris_param": (36, 36), "gaussian_window": (7, 7)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sdist", type=Path, help="path to basicsr-1.4.2.tar.gz")
    parser.add_argument("--out", type=Path, default=Path("src/neurofocus/weights"), help="output folder")
    args = parser.parse_args(argv)

    data = args.sdist.read_bytes()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = {m.name.split("/", 1)[-1]: m for m in tar.getmembers() if m.isfile()}
        if MEMBER not in members:
            parser.error(f"{args.sdist}: no {MEMBER} in the archive")
        raw = tar.extractfile(members[MEMBER]).read()
    with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
        shapes = {key: npz[key].shape for key in npz.files}
        dtypes = {key: npz[key].dtype for key in npz.files}
    if shapes != EXPECTED or any(dt != np.float64 for dt in dtypes.values()):
        parser.error(f"unexpected arrays in {MEMBER}: {shapes} {dtypes}")
    out = args.out / "niqe_pris_params.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(raw)
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)
    print(f"{out}: {len(raw):,} bytes, sha256 {hashlib.sha256(raw).hexdigest()}")
    print(f"source {args.sdist.name} sha256 {hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
