"""Model registry: ``register_model`` + one ``create_model`` entry point (the timm habit).

Registered names (see :func:`list_models`):

``ev_refocus_net``
    EvRefocusNet (EFS Table 6): events only.
``neuro_refocus_net``
    NeuroRefocusNet (NFS Table 6): ``modality="events"`` (default) or ``"spikes"``. With events it is the same
    architecture as ``ev_refocus_net``.
``ev_merge_net``
    EvMergeNet (EFS Table 7): events, a fixed stack of ``stack_size`` (64) images.
``neuro_merge_net``
    NeuroMergeNet (NFS Table 7): ``modality="events"`` (default) or ``"spikes"``, any stack size.
``e2vid``
    E2VID (Rebecq et al. 2019): recurrent U-Net on 5-bin voxel grids, ``forward(voxel, state)``.
``evfocus``
    EvFocus (Zhu et al., ICML 2025): sharp images from out-of-focus events, ``forward(voxel, state)``.

Every model takes ``width`` (channel multiplier, default 1.0) and the options of its config
(:mod:`neurofocus.models.spec`); unknown options raise :class:`~neurofocus.errors.NeurofocusError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch
from torch import nn

from ..errors import NeurofocusError
from .e2vid import E2VID
from .evfocus import EvFocus
from .merge import EvMergeNet, NeuroMergeNet
from .refocus import RefocusNet
from .spec import E2VIDConfig, EvFocusConfig, EvMergeConfig, NeuroMergeConfig, RefocusConfig

_REGISTRY: dict[str, tuple[Callable[..., nn.Module], type]] = {}


def register_model(name: str, config_class: type) -> Callable:
    """Decorator registering ``factory(config, name) -> nn.Module`` under ``name`` with its config class."""
    def decorate(factory: Callable) -> Callable:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is already registered")
        _REGISTRY[name] = (factory, config_class)
        return factory
    return decorate


def list_models() -> list[str]:
    """Registered model names, sorted."""
    return sorted(_REGISTRY)


def config_class(name: str) -> type:
    return _lookup(name)[1]


def _lookup(name: str):
    if name not in _REGISTRY:
        raise NeurofocusError(f"unknown model {name!r} (known: {', '.join(list_models())})")
    return _REGISTRY[name]


def create_model(name: str, *, seed: int | None = None, **kwargs) -> nn.Module:
    """Build a registered model.

    Parameters
    ----------
    name : str
        A name from :func:`list_models`.
    seed : int, optional
        Seed of the weight initialisation (the global torch RNG is left untouched); None uses the global RNG.
    **kwargs
        Config options (``width``, ``modality``, ``nfs``, …); a dict for ``nfs`` is accepted (as stored in weight
        files).

    Returns
    -------
    torch.nn.Module
        In training mode, float32, on the CPU, with ``.name``, ``.config`` and ``.input_spec``.

    Examples
    --------
    >>> net = create_model("neuro_merge_net", modality="spikes", width=0.25)
    >>> net.input_spec.inputs[0].shape
    '(B, S, 3, H, W)'
    """
    factory, cfg_cls = _lookup(name)
    config = cfg_cls.from_dict(kwargs, model=name)
    ctx = torch.random.fork_rng(devices=[]) if seed is not None else contextlib.nullcontext()
    with ctx:
        if seed is not None:
            torch.manual_seed(int(seed))
        return factory(config, name)


@register_model("ev_refocus_net", RefocusConfig)
def _ev_refocus_net(config: RefocusConfig, name: str) -> RefocusNet:
    if config.modality != "events":
        raise NeurofocusError("ev_refocus_net is the event network (EFS); use neuro_refocus_net for spikes")
    return RefocusNet(config, name)


# A network class built as ``cls(config, name)`` is its own factory.
for _name, _config, _network in (("neuro_refocus_net", RefocusConfig, RefocusNet),
                                  ("ev_merge_net", EvMergeConfig, EvMergeNet),
                                  ("neuro_merge_net", NeuroMergeConfig, NeuroMergeNet),
                                  ("e2vid", E2VIDConfig, E2VID),
                                  ("evfocus", EvFocusConfig, EvFocus)):
    register_model(_name, _config)(_network)
