"""Tests for lifetf.seeding: Threefry-2x32 against its published answers, streams, draws."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

from lifetf import seeding

# Random123's known-answer vectors for threefry2x32 with 20 rounds: (counter, key, output)
KNOWN_ANSWERS = [
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6B200159, 0x99BA4EFE)),
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x243F6A88, 0x85A308D3), (0x13198A2E, 0x03707344), (0xC4923A9C, 0x483DF7A0)),
]


def _u32(value: int) -> np.ndarray:
    return np.array([value], np.uint32)


@pytest.mark.parametrize("counter, key, expected", KNOWN_ANSWERS)
def test_threefry_gives_the_published_answers_in_numpy_and_keras(counter, key, expected):
    for xp in (np, ops):
        out = seeding.threefry2x32(_u32(key[0]), _u32(key[1]), _u32(counter[0]),
                                   _u32(counter[1]), xp=xp)
        got = tuple(int(np.asarray(ops.convert_to_numpy(x))[0]) for x in out)
        assert got == expected, (xp.__name__, [hex(g) for g in got])


def test_keras_ops_and_numpy_draw_the_same_bits():
    keys = seeding.stream_keys(range(5), seeding.DATA, 3)
    counters = np.array([0, 7, 123456])
    words = seeding.random_words(keys, counters, 1001, xp=np)
    assert words.shape == (3, 5, 1001) and words.dtype == np.uint32
    in_keras = ops.convert_to_numpy(seeding.random_words(ops.convert_to_tensor(keys),
                                                         ops.convert_to_tensor(counters), 1001))
    assert np.array_equal(in_keras, words)
    draws = seeding.bernoulli(keys, counters, (4, 6, 6), 0.38, xp=np)
    in_keras = ops.convert_to_numpy(seeding.bernoulli(keys, counters, (4, 6, 6), 0.38))
    assert draws.shape == (3, 5, 4, 6, 6) and np.array_equal(in_keras, draws)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7, 8, 13, 98, 100, 3200])
def test_bernoulli_draws_are_the_halfwords_below_the_threshold(n):
    """Draw i is halfword i of the counter's stream, whatever n is modulo 4 (the halfwords come
    in four blocks, the last ones cut short): the contract every stored trial's boards rest on."""
    keys = seeding.stream_keys(range(3), seeding.DATA, 2)
    counters = np.array([0, 5, 77])
    halves = seeding.random_halfwords(keys, counters, n, xp=np)
    expected = (halves < seeding.bernoulli_threshold(0.38)).astype(np.float32)
    for xp in (np, ops):
        draws = np.asarray(ops.convert_to_numpy(seeding.bernoulli(keys, counters, (n,), 0.38,
                                                                  xp=xp)))
        assert draws.shape == (3, 3, n) and np.array_equal(draws, expected), xp.__name__


def test_a_draw_depends_on_its_own_key_and_counter_only():
    keys = seeding.stream_keys([4, 9, 11], seeding.DATA)
    many = seeding.random_words(keys, np.arange(10), 64, xp=np)
    # the same member and counter alone, among other members and counters: the same bits
    alone = seeding.random_words(keys[1:2], np.array([6]), 64, xp=np)
    assert np.array_equal(alone[0, 0], many[6, 1])
    assert not np.array_equal(many[6, 1], many[7, 1])
    assert not np.array_equal(many[6, 0], many[6, 1])


def test_streams_differ_by_seed_purpose_and_words():
    base = seeding.stream_keys([1], seeding.DATA, 0)
    for other in (seeding.stream_keys([2], seeding.DATA, 0),
                  seeding.stream_keys([1], seeding.DROPOUT, 0),
                  seeding.stream_keys([1], seeding.DATA, 1)):
        assert not np.array_equal(base, other)
    assert np.array_equal(base, seeding.stream_keys([1], seeding.DATA, 0))


@pytest.mark.parametrize("p", [0.0, 0.2, 0.38, 0.5, 1.0])
def test_bernoulli_rate(p):
    keys = seeding.stream_keys(range(4), seeding.DATA)
    draws = seeding.bernoulli(keys, np.arange(5), (50, 50), p, xp=np)
    assert set(np.unique(draws)) <= {0.0, 1.0}
    exact = int(seeding.bernoulli_threshold(p)) / 2**16
    # 50 000 draws: 4.5 standard errors is at most 0.01
    assert abs(draws.mean() - exact) < 0.01
    assert abs(exact - p) <= 2**-17


def test_bad_probability_is_named():
    with pytest.raises(ValueError, match="1.5"):
        seeding.bernoulli_threshold(1.5)


def test_permutations_and_choices():
    order = seeding.permutation(3, seeding.SHUFFLE, 2, 40)
    assert sorted(order) == list(range(40))
    assert not np.array_equal(order, seeding.permutation(3, seeding.SHUFFLE, 3, 40))
    assert np.array_equal(order, seeding.permutation(3, seeding.SHUFFLE, 2, 40))
    picked = seeding.choose(5, seeding.FLIPS, np.arange(100, 125), 6)
    assert len(set(picked)) == 6 and set(picked) <= set(range(100, 125))
    with pytest.raises(ValueError, match="cannot choose 30 of 25"):
        seeding.choose(5, seeding.FLIPS, np.arange(25), 30)


def test_numpy_generator_is_pcg64_and_seeded():
    rng = seeding.numpy_rng(7, seeding.INIT)
    assert isinstance(rng.bit_generator, np.random.PCG64)
    again = seeding.numpy_rng(7, seeding.INIT)
    assert rng.random() == again.random()
