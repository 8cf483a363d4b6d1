"""Which ink points each output frame and each recognized character covers (the insight
panels' highlighting): the vectorized `frame_points_of` and the cached `char_points_of` give
exactly what the plain per-frame loops they replaced gave."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from handwriting.features import char_points_of, frame_points_of


def frame_points_reference(source, stride, n_frames, n_points):
    out = []
    for t in range(n_frames):
        window = source[t * stride:(t + 1) * stride]
        if not len(window):
            out.append(np.zeros(0, np.int64))
            continue
        last = t + 1 == n_frames or (t + 1) * stride >= len(source)
        nxt = n_points if last else int(source[(t + 1) * stride])
        out.append(np.arange(int(window[0]), max(nxt, int(window.max()) + 1), dtype=np.int64))
    return tuple(out)


def char_points_reference(char_frames, frame_points):
    frames = list(char_frames) + [len(frame_points)]
    return tuple(np.unique(np.concatenate([frame_points[t] for t in range(a, max(b, a + 1))]))
                 for a, b in zip(frames[:-1], frames[1:], strict=True))


@st.composite
def alignments(draw):
    steps = draw(st.lists(st.integers(0, 3), min_size=1, max_size=60))
    source = np.cumsum(steps).astype(np.int64)  # non-decreasing, as resampling gives
    stride = draw(st.integers(1, 5))
    n_frames = draw(st.integers(1, len(source) // stride + 2))
    n_points = int(source[-1]) + 1 + draw(st.integers(0, 3))
    return source, stride, n_frames, n_points


def _same(a, b) -> bool:
    return len(a) == len(b) and all(x.dtype == y.dtype and np.array_equal(x, y)
                                    for x, y in zip(a, b, strict=True))


@settings(max_examples=300, deadline=None)
@given(alignments())
def test_frame_points_match_the_per_frame_loop(case):
    assert _same(frame_points_of(*case), frame_points_reference(*case))


@settings(max_examples=200, deadline=None)
@given(alignments(), st.data())
def test_char_points_with_a_shared_cache_match_the_plain_union(case, data):
    frames = frame_points_of(*case)
    cache: dict = {}
    for _ in range(3):  # several hypotheses of one line share the cache
        chars = sorted(data.draw(st.lists(st.integers(0, len(frames) - 1), max_size=8)))
        assert _same(char_points_of(tuple(chars), frames, cache),
                     char_points_reference(chars, frames))
