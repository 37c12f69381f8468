"""Data-parallel training as torchrun runs it: 2 CPU processes (Gloo), the environment variables torchrun sets,
no code change. Only rank 0 writes files; both ranks end with identical weights."""

import multiprocessing
import os
import socket
import time

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

import torch.distributed as dist
import torch.multiprocessing as mp

from neurofocus.train import read_log

from .conftest import tiny_config

#: A hang detector, not a speed check: the two ranks take 10-40 s on a loaded 2-core machine. Past it the test fails.
TIME_LIMIT_S = 240
#: What the ranks need, imported once by the fork server they fork from instead of once per rank (the deterministic
#: mode's first use imports torch._dynamo: seconds).
PRELOAD = ["torch", "torch._dynamo", "torch.distributed", "neurofocus.train", "safetensors.torch", "tests.train.conftest"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_two_ranks(worker, data, run_dir, out_dir) -> tuple[dict, dict]:
    """Run ``worker(rank, 2, port, data, run_dir, out_dir)`` on two processes forked from a fork server that has
    imported ``PRELOAD`` (fresh: no OpenMP pool inherited from the test process) and return the two ranks' saved state
    dicts, ``out_dir/rank{r}.safetensors``. Fails (never skips) when the ranks run past TIME_LIMIT_S."""
    from safetensors.torch import load_file

    assert dist.is_available() and dist.is_gloo_available()  # every CPU build of PyTorch has Gloo
    out_dir.mkdir()
    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    context = mp.start_processes(worker, args=(2, _free_port(), str(data), str(run_dir), str(out_dir)), nprocs=2,
                                 join=False, start_method="forkserver")
    deadline = time.monotonic() + TIME_LIMIT_S
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail(f"2-process Gloo training did not finish in {TIME_LIMIT_S} s: a hang (or a machine far slower "
                        "than any this suite runs on)")
    return tuple(load_file(str(out_dir / f"rank{r}.safetensors")) for r in (0, 1))


def _worker(rank: int, world: int, port: int, data: str, run_dir: str, out_dir: str):
    from safetensors.torch import save_file

    from neurofocus.train import train
    from tests.train.conftest import tiny_config as make_config

    os.environ.update(WORLD_SIZE=str(world), RANK=str(rank), LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(world),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    config = make_config(data, steps=3, batch_size=2, val_scenes=1, val_every=2, val_pairs=1, checkpoint_every=2,
                         device="cpu")
    result = train(config, run_dir)
    assert not dist.is_initialized()  # the loop made the process group and took it down
    save_file({k: v.contiguous() for k, v in result.model.state_dict().items()}, f"{out_dir}/rank{rank}.safetensors")


def test_two_process_gloo_training(mini_dataset, tmp_path):
    run_dir = tmp_path / "run"
    a, b = run_two_ranks(_worker, mini_dataset, run_dir, tmp_path / "out")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # one log (rank 0 only: no duplicated rows), validation rows, one set of checkpoints, final weights
    rows = read_log(run_dir / "log.csv")
    assert [r["step"] for r in rows] == ["1", "2", "3"]
    assert rows[1]["val_psnr"] and not rows[0]["val_psnr"] and rows[2]["val_psnr"]
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["latest.json", "step_00000002",
                                                                          "step_00000003"]
    assert sorted(p.name for p in run_dir.iterdir()) == ["checkpoints", "config.json", "data.json", "log.csv",
                                                         "model.safetensors", "summary.json"]
    from neurofocus.models import load_model

    final = load_model(run_dir / "model.safetensors").state_dict()
    assert all(torch.equal(final[k], a[k]) for k in a)
    # the epoch (2 scenes, 1 held out: 8 items) was split between the ranks: 2 steps of 2 items per rank
    assert [r["epoch"] for r in rows] == ["0", "0", "1"]
    assert tiny_config(mini_dataset).batch_size == 4
