"""The papers' networks: refocus (EvRefocusNet, NeuroRefocusNet), merge (EvMergeNet, NeuroMergeNet), EvFocus and
its E2VID baseline.

Needs the ``nets`` extra (``pip install 'neurofocus[nets]'``: torch and safetensors).

>>> from neurofocus.models import create_model, list_models
>>> list_models()
['e2vid', 'ev_merge_net', 'ev_refocus_net', 'evfocus', 'neuro_merge_net', 'neuro_refocus_net']
>>> net = create_model("neuro_refocus_net", modality="spikes", width=0.5)

* :mod:`.registry`: ``create_model(name, **options)``, ``list_models()``, ``register_model``.
* :mod:`.refocus`, :mod:`.merge`: the networks; :mod:`.blocks`: their shared layers (Tables 6–7).
* :mod:`.evfocus`, :mod:`.e2vid`: sharp images from out-of-focus events; :mod:`.recurrent`: their ConvLSTM
  encoder, voxel input and streaming :func:`~.recurrent.reconstruct_sequence`.
* :mod:`.spec`: configs and ``model.input_spec``, the input contract of each model.
* :mod:`.inputs`: event/spike representations and the functions that build a model's inputs from a
  :class:`~neurofocus.types.FocalSweep`.
* :mod:`.weights`: ``save_weights`` / ``load_weights`` / ``load_model`` (safetensors, strict).
"""

import importlib.util

if importlib.util.find_spec("torch") is None:  # pragma: no cover - depends on the installation
    raise ImportError("neurofocus.models needs PyTorch: pip install 'neurofocus[nets]'")

from .inputs import (
    EventBinning,
    EventSlicing,
    SpikeBinning,
    SpikeSlicing,
    merge_inputs,
    refocus_inputs,
)
from .merge import EvMergeNet, MergeOutput, NeuroMergeNet
from .refocus import RefocusNet
from .registry import create_model, list_models, register_model
from .spec import EvMergeConfig, InputSpec, NeuroMergeConfig, RefocusConfig, TensorSpec
from .weights import load_model, load_weights, read_metadata, save_weights

__all__ = ["EvMergeConfig", "EvMergeNet", "EventBinning", "EventSlicing", "InputSpec", "MergeOutput",
           "NeuroMergeConfig", "NeuroMergeNet", "RefocusConfig", "RefocusNet", "SpikeBinning", "SpikeSlicing",
           "TensorSpec", "create_model", "list_models", "load_model", "load_weights", "merge_inputs", "read_metadata",
           "refocus_inputs", "register_model", "save_weights"]
