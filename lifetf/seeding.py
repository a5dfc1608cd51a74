"""The seed contract: every random number of a trial comes from (seed, purpose, stream, counter).

Two kinds of randomness, both a pure function of the trial's seed:

- **Initial weights and other host-side draws** come from numpy's PCG64 bit generator, named
  explicitly, seeded by ``SeedSequence([seed, purpose, *words])``.
- **Everything drawn per batch** (boards, dropout masks) and the fixed-set orders and sign flips
  come from Threefry-2x32 with 20 rounds (Salmon et al., "Parallel random numbers: as easy as
  1, 2, 3", SC 2011), a counter-based generator written here in ``keras.ops`` uint32 operations
  (add, xor, shifts). It gives bit-identical output on the TensorFlow and JAX backends and in
  numpy, inside or outside compiled code; ``keras.random`` cannot (it is Philox on TensorFlow
  and Threefry with another key schedule on JAX). Its 64-bit key comes from SeedSequence over
  (seed, purpose, stream, ...); its 64-bit counter is (batch, position within the batch).

So a member's boards at batch t depend on (seed, data stream, t) and the shapes only: not on
how many members train together, nor on chunking, nor on the backend.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# purposes: the second word of every SeedSequence, so that streams of different uses never meet
INIT = 0x1A17  # initial weights of a Game of Life network
DATA = 0xDA7A  # fresh training boards
DROPOUT = 0xD809  # channel-dropout masks
FLIPS = 0xF11B  # which hand-built weights get their sign flipped
SHUFFLE = 0x5F1E  # epoch orders of a fixed training set
TRAIN_SET = 0x5E7  # the fixed training set itself
LOSS_BOARDS = 0x1055  # the fixed boards on which initial and final loss are taken
EVAL = 0x7E57  # the test boards of the success measure
CLASSIFIER_INIT, CLASSIFIER_ORDER, CLASSIFIER_PROBE = 0xC1A5, 0x0DE5, 0x9E0B
WALK_BOARDS = 0x3A1C  # the boards on which loss walks are evaluated
PLATEAU_BOARDS = 0xC0  # the boards of the constant predictor's loss
PERMUTATION = 0x9E47  # permutation tests and re-pairings of the claims
FIGURE = 0xF16  # jitter in figures
NOISY_DATA, NOISY_INIT, NOISY_MASK = 0xDA7B, 0x1417, 0xD80A

_ROTATIONS = (13, 15, 26, 6, 17, 29, 16, 24)
_PARITY = np.uint32(0x1BD11BDA)
UNIFORM_BITS = 16  # each Bernoulli draw compares 16 random bits with round(p * 2^16)


def seed_sequence(seed: int, purpose: int, *words: int) -> np.random.SeedSequence:
    """The SeedSequence of (seed, purpose, words): the root of every stream of the suite."""
    return np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(purpose), *map(int, words)])


def numpy_rng(seed: int, purpose: int, *words: int) -> np.random.Generator:
    """A numpy Generator on the PCG64 bit generator, named explicitly (not default_rng's)."""
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, purpose, *words)))


def stream_keys(seeds: Sequence[int], purpose: int, *words: int) -> np.ndarray:
    """Threefry keys (len(seeds), 2) uint32, one per seed, for (purpose, words)."""
    return np.stack([seed_sequence(s, purpose, *words).generate_state(2, np.uint32)
                     for s in seeds]).astype(np.uint32)


def threefry2x32(key0, key1, count0, count1, xp=None):
    """Threefry-2x32-20 of counters (count0, count1) under keys (key0, key1); broadcasts.

    ``xp`` is ``keras.ops`` (default) or ``numpy``: the same uint32 arithmetic either way, so
    both give the same bits. Checked against the published known-answer vectors in the tests.
    """
    if xp is None:
        from keras import ops as xp
    key2 = xp.bitwise_xor(xp.bitwise_xor(key0, key1), _PARITY)
    schedule = (key0, key1, key2)
    x0 = xp.add(count0, key0)
    x1 = xp.add(count1, key1)
    for r in range(20):
        x0 = xp.add(x0, x1)
        rot = _ROTATIONS[r % 8]
        x1 = xp.bitwise_or(xp.left_shift(x1, np.uint32(rot)),
                           xp.right_shift(x1, np.uint32(32 - rot)))
        x1 = xp.bitwise_xor(x1, x0)
        if r % 4 == 3:
            s = (r + 1) // 4
            x0 = xp.add(x0, schedule[s % 3])
            x1 = xp.add(xp.add(x1, schedule[(s + 1) % 3]), np.uint32(s))
    return x0, x1


def _cast(x, dtype: str, xp):
    return np.asarray(x).astype(dtype) if xp is np else xp.cast(x, dtype)


def random_words(keys, counters, n: int, xp=None):
    """Random uint32 words (S, K, n): member k's n words at each counter.

    ``keys`` is (K, 2) uint32 and ``counters`` is (S,) (batch indices, say). Threefry counter
    (c, j) for j < ceil(n / 2) gives two words; the first words of all j come first, then the
    second words (two contiguous blocks: no interleaving, which costs a copy in XLA).
    """
    if xp is None:
        from keras import ops as xp
    pairs = (n + 1) // 2
    k0 = xp.reshape(keys[:, 0], (1, -1, 1))
    k1 = xp.reshape(keys[:, 1], (1, -1, 1))
    c0 = xp.reshape(_cast(counters, "uint32", xp), (-1, 1, 1))
    c1 = np.arange(pairs, dtype=np.uint32)[None, None]  # a constant: the same on every backend
    x0, x1 = threefry2x32(k0, k1, c0, c1, xp)
    return xp.concatenate([x0, x1], axis=-1)[..., :n]


def random_halfwords(keys, counters, n: int, xp=None):
    """(S, K, n) uniform integers in [0, 2^16): the low halves of ceil(n / 2) words, then the
    high halves."""
    if xp is None:
        from keras import ops as xp
    words = random_words(keys, counters, (n + 1) // 2, xp)
    low = xp.bitwise_and(words, np.uint32(0xFFFF))
    high = xp.right_shift(words, np.uint32(16))
    return xp.concatenate([low, high], axis=-1)[..., :n]


def bernoulli_threshold(p: float) -> np.uint32:
    """The 16-bit threshold of a Bernoulli(p) draw: a draw is 1 when its halfword < this."""
    if not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"a probability must lie in [0, 1], got {p!r}")
    return np.uint32(round(float(p) * (1 << UNIFORM_BITS)))


def bernoulli(keys, counters, shape: tuple[int, ...], p: float, xp=None):
    """(S, K, *shape) float32 0/1 draws, 1 with probability round(p * 2^16) / 2^16.

    Draw i of a counter is the i-th halfword of :func:`random_halfwords`. Inside compiled
    code, draw a whole chunk of counters at once, before the loop that uses them: XLA copies
    cheap element-wise producers into every consumer, so a draw made inside a loop body feeding
    many slices (patches, neighbour counts) is computed many times over.
    """
    return bernoulli_below(keys, counters, shape, bernoulli_threshold(p), xp)


def bernoulli_below(keys, counters, shape: tuple[int, ...], threshold, xp=None):
    """:func:`bernoulli` with its 16-bit threshold given (:func:`bernoulli_threshold`), which
    may be a tensor: compiled code that takes it as an input serves every probability."""
    if xp is None:
        from keras import ops as xp
    n = int(np.prod(shape))
    halves = random_halfwords(keys, counters, n, xp)
    ones = _cast(xp.less(halves, threshold), "float32", xp)
    return xp.reshape(ones, (ones.shape[0], ones.shape[1], *shape))


def permutations(keys: np.ndarray, counters: np.ndarray, n: int) -> np.ndarray:
    """Random permutations of range(n), (S, K, n): one per member key and counter (a stable
    sort of n random words), all drawn in one vectorised pass."""
    return np.argsort(random_words(keys, np.asarray(counters), n, np), axis=-1, kind="stable")


def permutation(seed: int, purpose: int, counter: int, n: int, *words: int) -> np.ndarray:
    """A random permutation of range(n) from one member's stream at ``counter``."""
    return permutations(stream_keys([seed], purpose, *words), np.array([counter]), n)[0, 0]


def choose(seed: int, purpose: int, population: np.ndarray, k: int, *words: int) -> np.ndarray:
    """``k`` distinct entries of ``population``, chosen from the counter stream."""
    population = np.asarray(population)
    if not 0 <= k <= len(population):
        raise ValueError(f"cannot choose {k} of {len(population)} entries")
    return population[permutation(seed, purpose, 0, len(population), *words)[:k]]
