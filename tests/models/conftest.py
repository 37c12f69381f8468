"""Shared by the network tests: one torch thread (stable timings on a shared CPU) and a parameter count."""

import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread():
    torch = pytest.importorskip("torch")
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def count(model) -> int:
    """Number of parameters (trainable or not) of a torch module."""
    return sum(p.numel() for p in model.parameters())
