"""Network inputs: direction-aware event bins with nothing dropped, spike-rate bins, per-slice channels."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neurofocus.aif.pipeline import sweep_refocuser
from neurofocus.errors import NeurofocusError
from neurofocus.models import create_model, merge_inputs, refocus_inputs
from neurofocus.models.inputs import EventBinning
from neurofocus.represent import event_bins, event_slices, spike_bins, spike_slices
from neurofocus.represent import PolarityTable
from neurofocus.types import Events, FocalSweep, Spikes

from ..conftest import random_events


def one_pixel(times, polarities):
    n = len(times)
    return Events.from_arrays(times, [0] * n, [0] * n, polarities, (1, 1))


def test_forward_bins_by_hand():
    ev = one_pixel([0, 10, 20, 30, 45, 60], [1, 1, 0, 1, 1, 0])
    bins = event_bins(ev, 10, 50, 4, count_scale=0.5)[:, 0, 0]
    # window [10, 50) in 4 bins of 10 µs: {10: +1}, {20: −1}, {30: +1}, {45: +1}; the events at 0 and 60 are outside
    assert bins.tolist() == [0.5, -0.5, 0.5, 0.5]


def test_backward_bins_are_reversed_and_negated():
    ev = one_pixel([0, 10, 20, 30, 45, 60], [1, 1, 0, 1, 1, 0])
    back = event_bins(ev, 50, 10, 4, count_scale=1.0)[:, 0, 0]
    # going from the image (50 µs) back to 10 µs: nearest bin first, each event counted with the opposite sign
    assert back.tolist() == [-1.0, -1.0, 1.0, -1.0]
    ev = random_events(3001, (9, 7), seed=3)
    np.testing.assert_array_equal(event_bins(ev, 80_000, 12_345, 16), -event_bins(ev, 12_345, 80_000, 16)[::-1])


@pytest.mark.parametrize("binning", ["time", "count"])
@pytest.mark.parametrize("t_img, t_tgt", [(5_000, 93_001), (93_001, 5_000), (0, 100_000), (40_000, 40_001)])
def test_total_signed_counts_are_preserved(binning, t_img, t_tgt):
    ev = random_events(3001, (9, 7), seed=4)  # 3001 events: not a multiple of the bin count
    bins = event_bins(ev, t_img, t_tgt, 64, count_scale=0.25, binning=binning)
    assert bins.shape == (64, 7, 9) and bins.dtype == np.float32
    net = PolarityTable(ev).net(t_img, t_tgt)
    np.testing.assert_allclose(bins.sum(axis=0), 0.25 * net, atol=1e-5)


def test_no_event_is_dropped_by_count_bins():
    ev = one_pixel(np.arange(67), [1] * 67)  # 67 ON events, 64 bins
    bins = event_bins(ev, 0, 67, 64, count_scale=1.0, binning="count")[:, 0, 0]
    assert bins.sum() == 67 and set(bins.tolist()) == {1.0, 2.0}


def test_zero_interval_gives_zero_bins():
    ev = random_events(100, (4, 3))
    assert not event_bins(ev, 500, 500, 8).any()


def test_spike_bins_centre_rates_and_edges():
    frames = np.zeros((40, 1, 2), bool)
    frames[::2, 0, 0] = True  # pixel 0 fires every other tick: rate 0.5
    frames[20:, 0, 1] = True  # pixel 1 fires from tick 20 on
    spikes = Spikes.from_frames(frames, tick_us=10.0)
    bins = spike_bins(spikes, 200.0, num_bins=4, ticks_per_bin=4)  # tick 20: bins [12,16) [16,20) [20,24) [24,28)
    np.testing.assert_allclose(bins[:, 0, 0], 0.5)
    np.testing.assert_allclose(bins[:, 0, 1], [0, 0, 1, 1])
    edge = spike_bins(spikes, 0.0, num_bins=4, ticks_per_bin=4)  # bins [-8,-4) [-4,0) outside: repeat [0,4)
    np.testing.assert_allclose(edge[:, 0, 1], 0)
    np.testing.assert_allclose(edge[:, 0, 0], 0.5)
    late = spike_bins(spikes, 395.0, num_bins=4, ticks_per_bin=4)  # tick 39: [31,35) [35,39) [39,40) then repeat
    np.testing.assert_allclose(late[:, 0, 1], 1)


def test_event_slices_flip_and_signed():
    ev = one_pixel([90, 95, 105, 110, 300], [1, 1, 0, 0, 1])
    flip = event_slices(ev, [100, 300], 20, count_scale=1.0)[:, 0, 0]
    signed = event_slices(ev, [100, 300], 20, count_scale=1.0, mode="signed")[:, 0, 0]
    assert flip.tolist() == [-4.0, 1.0]  # after (−2) minus before (+2); at 300: the event at 300 is "after"
    assert signed.tolist() == [0.0, 1.0]


def test_spike_slices_are_tfp():
    frames = np.zeros((50, 1, 1), bool)
    frames[10:20:2] = True
    spikes = Spikes.from_frames(frames, tick_us=1.0)
    np.testing.assert_allclose(spike_slices(spikes, [14.0, 40.0], 5)[:, 0, 0], [5 / 11, 0])


def test_settings_validate():
    with pytest.raises(NeurofocusError, match="num_bins"):
        EventBinning(num_bins=0)
    with pytest.raises(NeurofocusError, match="binning"):
        EventBinning(binning="space")


@pytest.fixture(scope="module")
def sweep():
    rng = np.random.default_rng(0)
    w, h = 11, 7
    events = random_events(800, (w, h), seed=5, t_max=50_000)
    frames = rng.random((500, h, w)) < 0.3
    spikes = Spikes.from_frames(frames, tick_us=100.0)
    image = rng.random((h, w, 3)).astype(np.float32)
    return FocalSweep(image=image, image_time_us=10_000, events=events, spikes=spikes, sweep_start_us=0,
                      sweep_end_us=50_000)


def test_refocus_inputs_feed_the_models(sweep):
    for kwargs in ({}, {"modality": "spikes"}):
        net = create_model("neuro_refocus_net", width=0.125, seed=0, **kwargs).eval()
        with pytest.raises(NeurofocusError, match="refocuser"):
            refocus_inputs(net, sweep, 30_000)
        refocuser = sweep_refocuser(sweep, modality=kwargs.get("modality", "events"))[0]
        inp = refocus_inputs(net, sweep, 30_000, refocuser)
        assert inp["image"].shape == (1, 3, 7, 11) and inp["nfs"].shape == (1, 64, 7, 11)
        assert inp["image"].dtype == inp["nfs"].dtype == torch.float32
        with torch.no_grad():
            assert net(**inp).shape == (1, 3, 7, 11)
    ev_inp = refocus_inputs(create_model("ev_refocus_net", width=0.125, event_image="captured"), sweep, 30_000)
    torch.testing.assert_close(ev_inp["image"][0].permute(1, 2, 0), torch.from_numpy(sweep.image))
    refocuser = sweep_refocuser(sweep, modality="events")[0]
    handcrafted = refocus_inputs(create_model("ev_refocus_net", width=0.125), sweep, 30_000, refocuser)
    np.testing.assert_allclose(handcrafted["image"][0].permute(1, 2, 0).numpy(), refocuser.refocus(30_000))
    net = PolarityTable(sweep.events).net(10_000, 30_000)
    np.testing.assert_allclose(ev_inp["nfs"][0].sum(0).numpy(), 0.2 * net, atol=1e-5)


def test_merge_inputs_feed_the_models(sweep):
    stack = np.stack([sweep.image] * 3)
    times = [5_000, 20_000, 45_000]
    for name, kwargs in (("neuro_merge_net", {}), ("neuro_merge_net", {"modality": "spikes"}),
                         ("ev_merge_net", {"stack_size": 3})):
        net = create_model(name, width=0.125, seed=0, **kwargs).eval()
        inp = merge_inputs(net, sweep, stack, times)
        assert inp["stack"].shape == (1, 3, 3, 7, 11) and inp["nfs"].shape == (1, 3, 7, 11)
        with torch.no_grad():
            out = net(**inp)
        torch.testing.assert_close(out.image[0].permute(1, 2, 0), torch.from_numpy(sweep.image))  # equal images
    with pytest.raises(NeurofocusError, match="3 stack images but 2 slice times"):
        merge_inputs(net, sweep, stack, times[:2])
