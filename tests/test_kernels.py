"""The compiled C kernels (``neurofocus._kernels``): events read at any record stride, every write bounds-checked."""

import copy
import gc
import pickle

import numpy as np
import pytest

from neurofocus.aif.timestamps import patch_event_times
from neurofocus.errors import NeurofocusError
from neurofocus.io import evt2, evt3
from neurofocus.io.records import new_records, new_stats
from neurofocus.represent import PolarityTable, event_frames, latest_timestamps, voxel_grid
from neurofocus.types import Events

from .conftest import random_events


def test_strided_records_give_the_results_of_a_contiguous_copy():
    ev = random_events(3000, (40, 30), seed=7)
    strided = Events(ev.data[::3], ev.sensor_size)  # 48-byte steps between the records
    copy = Events(strided.data.copy(), ev.sensor_size)
    assert strided.data.strides[0] == 48 and copy.data.strides[0] == 16
    for a, b in [(PolarityTable(strided).net(0, 60_000), PolarityTable(copy).net(0, 60_000)),
                 (event_frames(strided, 4, polarity="split"), event_frames(copy, 4, polarity="split")),
                 (latest_timestamps(strided, 50_000, split_polarity=True), latest_timestamps(copy, 50_000,
                                                                                            split_polarity=True)),
                 (voxel_grid(strided, 5), voxel_grid(copy, 5)),
                 (np.concatenate(patch_event_times(strided, (30, 40), 4)),
                  np.concatenate(patch_event_times(copy, (30, 40), 4))),
                 (evt3.encode(strided), evt3.encode(copy))]:
        assert a.dtype == b.dtype and np.array_equal(a, b)


@pytest.mark.parametrize("encoding", ["evt3", "evt2", "evt21"])
def test_the_decoders_refuse_to_write_past_their_output(encoding):
    ev = random_events(500, (64, 48), seed=1)
    if encoding == "evt3":
        words = evt3.encode(ev)
        decode = lambda out: evt3.decode(words, evt3.new_state(), 64, 48, out, 0, new_stats())  # noqa: E731
        capacity = evt3.max_events(words)
    elif encoding == "evt2":
        words = evt2.encode_evt2(ev)
        decode = lambda out: evt2.decode_evt2(words, evt2.new_state(), 64, 48, out, 0, new_stats())  # noqa: E731
        capacity = len(ev)
    else:
        words = evt2.encode_evt21(ev)
        decode = lambda out: evt2.decode_evt21(words, False, evt2.new_state(), 64, 48, out, 0,  # noqa: E731
                                               new_stats())
        capacity = evt2.max_events_evt21(words, False)
    records, out = new_records(capacity)
    assert decode(out) == len(ev) and np.array_equal(records, ev.data)
    records, out = new_records(capacity - 1)  # e.g. the file grew between counting and decoding
    with pytest.raises(NeurofocusError, match="more EVT .* events than counted"):
        decode(out)


def test_events_outside_the_maps_are_refused_not_written():
    ev = random_events(500, (64, 48), seed=2)
    with pytest.raises(NeurofocusError, match="outside the 32x48 image"):
        patch_event_times(ev, (48, 32), 4)  # the image is narrower than the sensor


def test_kernels_take_only_arrays_they_can_read_as_plain_memory():
    words = evt3.encode(random_events(100, (64, 48), seed=3))
    with pytest.raises(ValueError, match="C-contiguous uint16"):
        evt3.max_events(words[::2])
    with pytest.raises(ValueError, match="C-contiguous uint16"):
        evt3.max_events(words.astype(np.int32))


def test_copied_and_unpickled_tables_query_their_own_arrays():
    ev = random_events(2000, (40, 30), seed=8)
    table = PolarityTable(ev)
    anchored = table.anchored(30_000)
    region = (0, 30, 5, 35, 2)
    expected = table.net(10_000, 70_000), anchored.net(80_000, region)
    assert np.array_equal(copy.copy(anchored).net(80_000, region), expected[1])  # shares the arrays
    copies = [copy.deepcopy((table, anchored)), pickle.loads(pickle.dumps((table, anchored)))]
    del table, anchored
    gc.collect()  # the original arrays are freed and their memory scribbled over: a copy that kept their addresses
    scribbled = [np.full(n, -7, np.int64) for n in (30 * 40 + 1, 2000, 30 * 40) for _ in range(8)]  # reads this
    for table, anchored in copies:
        assert np.array_equal(table.net(10_000, 70_000), expected[0])
        assert np.array_equal(anchored.net(80_000, region), expected[1])
    assert len(scribbled) == 24
