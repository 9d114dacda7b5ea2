"""engine.rng.stream hands numpy the key as uint32 words (issue 10 item 12: seeding ~20 streams a
quarter was a tenth of its time); every stream must stay the one its definition gives
(``reference_stream``: numpy's SeedSequence over the key's integers), or every world changes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.rng import reference_stream, stream, subsystem_word

WORD = st.one_of(st.integers(min_value=0, max_value=3), st.integers(min_value=0, max_value=2**32 + 3),
                 st.integers(min_value=2**32 - 3, max_value=2**64), st.integers(min_value=0, max_value=2**130))


@settings(max_examples=300, deadline=None)
@given(seed=st.one_of(st.integers(min_value=0, max_value=2**63 - 1), st.sampled_from([0, 1, 2**32 - 1, 2**32])),
       subsystem=st.sampled_from(["demand", "prices", "gpu-failures", "customer-default", "renewal", ""]),
       quarter=WORD, extra=st.lists(WORD, max_size=4))
def test_a_stream_is_the_reference_stream(seed, subsystem, quarter, extra):
    """The same PCG64 state, hence the same draws, for any key: 0, 32-bit and wider integers."""
    fast, ref = stream(seed, subsystem, quarter, *extra), reference_stream(seed, subsystem, quarter, *extra)
    assert fast.bit_generator.state == ref.bit_generator.state
    assert fast.integers(0, 2**62, size=4).tolist() == ref.integers(0, 2**62, size=4).tolist()


def test_known_draws_of_a_stream_are_unchanged():
    """Against numpy itself (not through reference_stream): SeedSequence([1, crc32("gpu-failures"), 5, 2])."""
    ref = np.random.Generator(np.random.PCG64(np.random.SeedSequence([1, subsystem_word("gpu-failures"), 5, 2])))
    assert stream(1, "gpu-failures", 5, 2).random(3).tolist() == ref.random(3).tolist()


def test_numpy_integers_and_negative_words_behave_as_numpy_does():
    assert stream(3, "demand", np.int64(4), np.uint32(1)).random() == reference_stream(3, "demand", 4, 1).random()
    with pytest.raises(ValueError):
        stream(-1, "demand", 0)
    with pytest.raises(ValueError):
        stream(1, "demand", 0, -5)
