import numpy as np

from neurofocus.images import write_image
from neurofocus.simulate.dvs_voltmeter import gray8
from neurofocus.simulate.frame_sequence import FrameSequence


def test_chunks_in_order_as_float_or_gray8(tmp_path):
    rng = np.random.default_rng(1)
    frames = rng.uniform(0, 1, (7, 6, 5, 3)).astype(np.float32)
    for k, frame in enumerate(frames):
        write_image(tmp_path / f"{k:02d}.png", frame)
    sequence = FrameSequence(tmp_path, fps=100)
    chunks = list(sequence.chunks(3))
    grays = list(sequence.chunks(3, gray8=True))
    assert [len(c) for c, _ in chunks] == [len(g) for g, _ in grays] == [3, 3, 1]
    assert np.array_equal(np.concatenate([t for _, t in chunks]), np.arange(7) * 1e4)
    floats = np.concatenate([c for c, _ in chunks])
    assert np.allclose(floats, frames, atol=0.5 / 255)
    assert np.array_equal(np.concatenate([g for g, _ in grays]), gray8(floats))
