"""lifetf.life.rules: known patterns, edges, numpy == keras.ops, random boards, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from lifetf.life import rules as R

RULE_NAMES = ("conway", "firner")


def board(rows: list[str]) -> np.ndarray:
    """One (1, H, W) board from strings of '.' (dead) and 'X' (alive)."""
    return np.array([[[1 if c == "X" else 0 for c in row] for row in rows]], dtype=np.uint8)


BLINKER_H = board([".....", ".....", ".XXX.", ".....", "....."])
BLINKER_V = board([".....", "..X..", "..X..", "..X..", "....."])
BLOCK = board(["....", ".XX.", ".XX.", "...."])
CENTRE = board([".....", ".....", "..X..", ".....", "....."])
GLIDER = [".X......", "..X.....", "XXX.....", "........",
          "........", "........", "........", "........"]

# ---------------------------------------------------------------- known patterns


def test_blinker_oscillates_under_conway() -> None:
    assert np.array_equal(R.step(BLINKER_H, "conway"), BLINKER_V)
    assert np.array_equal(R.step(BLINKER_V, "conway"), BLINKER_H)
    assert np.array_equal(R.evolve(BLINKER_H, "conway", 2), BLINKER_H)
    assert np.array_equal(R.evolve(BLINKER_H, "conway", 7), BLINKER_V)


@pytest.mark.parametrize("rule", RULE_NAMES)
def test_block_is_still(rule: str) -> None:
    for steps in (1, 2, 5):
        assert np.array_equal(R.evolve(BLOCK, rule, steps), BLOCK)


def test_steps_zero_is_identity() -> None:
    boards = R.random_boards(4, 6, seed=3)
    for rule in RULE_NAMES:
        assert np.array_equal(R.evolve(boards, rule, 0), boards)


def test_firner_rule_by_hand() -> None:
    # Three orthogonal neighbours around a dead centre: the centre is born (3 orthogonal
    # neighbours), each arm has no orthogonal neighbour and dies, and the cells between two arms
    # see only 2 orthogonal neighbours, so nothing else is born.
    start = board([".....", "..X..", ".X.X.", ".....", "....."])
    assert np.array_equal(R.step(start, "firner"), CENTRE)
    # a lone cell dies
    assert not R.evolve(start, "firner", 2).any()
    # a T: the stem's top has 3 orthogonal neighbours and survives, all others die
    tee = board([".....", ".XXX.", "..X..", ".....", "....."])
    stem_top = board([".....", "..X..", ".....", ".....", "....."])
    assert np.array_equal(R.step(tee, "firner"), stem_top)
    # under firner the blinker collapses to its centre instead of oscillating
    assert np.array_equal(R.step(BLINKER_H, "firner"), CENTRE)


def test_firner_and_conway_differ_on_diagonal_neighbours() -> None:
    diagonal = board([".....", ".X...", "..X..", "...X.", "....."])
    # conway: the middle cell has 2 (diagonal) neighbours and survives, the ends die
    assert np.array_equal(R.step(diagonal, "conway"), CENTRE)
    # firner: diagonal cells are not neighbours, so the middle cell is isolated and everything dies
    assert not R.step(diagonal, "firner").any()
    # the neighbour counts show why
    assert R.neighbour_counts(diagonal, "conway")[0, 2, 2] == 2
    assert R.neighbour_counts(diagonal, "firner")[0, 2, 2] == 0


def test_rule_neighbourhoods() -> None:
    conway, firner = R.get_rule("conway"), R.get_rule("firner")
    assert conway.neighbourhood_mask.sum() == 8 and conway.neighbourhood_mask[1, 1] == 0
    assert np.array_equal(firner.neighbourhood_mask, [[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    assert R.get_rule(firner) is firner
    assert len(firner.relevant_cells) == 5 and len(conway.relevant_cells) == 9


# ---------------------------------------------------------------- edges: zero padding vs torus


def test_glider_on_torus_wraps_and_returns() -> None:
    glider = board(GLIDER)
    # a glider moves one cell down and right every 4 generations, across the edges on a torus
    for generations in (4, 8, 24):
        shift = generations // 4
        moved = np.roll(glider, (shift, shift), axis=(1, 2))
        assert np.array_equal(R.evolve(glider, "conway", generations, torus=True), moved)
    # after 4 * 8 generations on an 8x8 torus it is back where it started
    assert np.array_equal(R.evolve(glider, "conway", 32, torus=True), glider)
    assert R.evolve(glider, "conway", 32, torus=True).sum() == 5


def test_glider_hits_the_dead_edge_without_torus() -> None:
    glider = board(GLIDER)
    # away from the edges both boundaries agree
    assert np.array_equal(R.evolve(glider, "conway", 8), R.evolve(glider, "conway", 8, torus=True))
    # once it reaches the edge, zero padding destroys it (it ends as a still block in the corner)
    bounded = R.evolve(glider, "conway", 32)
    wrapped = R.evolve(glider, "conway", 32, torus=True)
    assert not np.array_equal(bounded, wrapped)
    assert np.array_equal(R.step(bounded, "conway"), bounded)  # still life
    assert bounded.sum() == 4
    assert bounded[0, 6:, 6:].all()


def test_torus_counts_wrap_around() -> None:
    corner = np.zeros((1, 4, 4), np.uint8)
    corner[0, 0, 0] = 1
    padded = R.neighbour_counts(corner, "conway", torus=False)
    wrapped = R.neighbour_counts(corner, "conway", torus=True)
    assert padded[0, 3, 3] == 0 and wrapped[0, 3, 3] == 1
    assert padded[0, 0, 3] == 0 and wrapped[0, 0, 3] == 1
    assert R.neighbour_counts(corner, "firner", torus=True)[0, 3, 3] == 0  # diagonal only
    assert R.neighbour_counts(corner, "firner", torus=True)[0, 0, 3] == 1


# ---------------------------------------------------------------- numpy == keras.ops


@pytest.mark.parametrize("rule", RULE_NAMES)
@pytest.mark.parametrize("torus", [False, True])
def test_numpy_and_ops_evolve_agree(rule: str, torus: bool) -> None:
    from keras import ops

    for i, size in enumerate((1, 3, 5, 8, (4, 7), (9, 3))):
        boards = R.random_boards(20, size, density=0.45, seed=i)
        for steps in range(6):
            expected = R.evolve(boards, rule, steps, torus=torus)
            tensor = ops.convert_to_tensor(boards.astype(np.float32))
            got = ops.convert_to_numpy(R.ops_evolve(tensor, rule, steps, torus=torus))
            assert got.dtype == np.float32
            assert np.array_equal(got, expected), (size, steps)


@pytest.mark.parametrize("torus", [False, True])
def test_ops_evolve_with_leading_axes(torus: bool) -> None:
    from keras import ops

    boards = R.random_boards(2 * 3 * 4, 6, density=0.4, seed=11)
    stacked = ops.convert_to_tensor(boards.reshape(2, 3, 4, 6, 6).astype(np.float32))
    for rule in RULE_NAMES:
        for steps in (1, 3, 5):
            got = ops.convert_to_numpy(R.ops_evolve(stacked, rule, steps, torus=torus))
            expected = R.evolve(boards, rule, steps, torus=torus).reshape(2, 3, 4, 6, 6)
            assert np.array_equal(got, expected)
    # a single (H, W) board works too
    got = R.ops_evolve(ops.convert_to_tensor(boards[0].astype(np.float32)), "conway", 2,
                       torus=torus)
    assert np.array_equal(ops.convert_to_numpy(got),
                          R.evolve(boards[:1], "conway", 2, torus=torus)[0])


# ---------------------------------------------------------------- random boards


@pytest.mark.parametrize("density", [0.1, 0.38, 0.5, 0.9])
def test_random_boards_density(density: float) -> None:
    boards = R.random_boards(200, 20, density=density, seed=5)
    assert boards.shape == (200, 20, 20) and boards.dtype == np.uint8
    assert set(np.unique(boards)) <= {0, 1}
    # 80 000 cells: the standard error of the mean is at most 0.0018
    assert abs(boards.mean() - density) < 0.01


def test_random_boards_extreme_densities_and_shapes() -> None:
    assert not R.random_boards(10, 5, density=0.0, seed=1).any()
    assert R.random_boards(10, 5, density=1.0, seed=1).all()
    assert R.random_boards(3, (4, 7), seed=0).shape == (3, 4, 7)
    assert R.random_boards(0, 5).shape == (0, 5, 5)


def test_random_boards_seeding() -> None:
    a = R.random_boards(50, 8, seed=123)
    assert np.array_equal(a, R.random_boards(50, 8, seed=123))
    assert not np.array_equal(a, R.random_boards(50, 8, seed=124))
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    assert np.array_equal(R.random_boards(5, 6, seed=g1), R.random_boards(5, 6, seed=g2))
    # a generator advances: two draws from it differ
    assert not np.array_equal(R.random_boards(5, 6, seed=g1), R.random_boards(5, 6, seed=g1))


# ---------------------------------------------------------------- local configurations


def test_local_configurations_counts() -> None:
    every = R.local_configurations("conway")
    assert every.shape == (512, 3, 3)
    assert len({w.tobytes() for w in every}) == 512
    assert np.array_equal(R.local_configurations("firner"), every)
    firner = R.local_configurations("firner", relevant_only=True)
    assert firner.shape == (32, 3, 3)
    assert len({w.tobytes() for w in firner}) == 32
    assert not firner[:, [0, 0, 2, 2], [0, 2, 0, 2]].any()  # corners are irrelevant: kept dead
    conway = R.local_configurations("conway", relevant_only=True)
    assert conway.shape == (512, 3, 3)
    assert len({w.tobytes() for w in conway}) == 512


@pytest.mark.parametrize("rule", RULE_NAMES)
def test_next_centre_is_the_truth_table(rule: str) -> None:
    windows = R.local_configurations(rule)
    mask = R.get_rule(rule).neighbourhood_mask
    counts = (windows * mask).sum(axis=(1, 2))
    alive = windows[:, 1, 1] == 1
    expected = np.where(alive, np.isin(counts, (2, 3)), counts == 3).astype(np.uint8)
    assert np.array_equal(R.next_centre(windows, rule), expected)
    if rule == "firner":
        # corners never matter under firner
        flipped = windows.copy()
        flipped[:, 0, 0] ^= 1
        assert np.array_equal(R.next_centre(flipped, rule), R.next_centre(windows, rule))


def dead_share(rule: str, steps: int, size: int, density: float = 0.5) -> float:
    """The exact all-dead share after ``steps`` steps."""
    return float(R.all_dead_shares(rule, steps, size=size, density=density)[steps])


def test_all_dead_share_small_cases() -> None:
    # with no steps, a 3x3 board is all dead with probability (1 - p)^9
    assert dead_share("conway", 0, size=3) == pytest.approx(0.5**9)
    assert dead_share("firner", 0, size=3, density=0.2) == pytest.approx(0.8**9)
    # against a Monte Carlo estimate on 3x3 boards after one and two steps
    boards = R.random_boards(40_000, 3, seed=2)
    for rule in RULE_NAMES:
        for steps in (1, 2):
            after = R.evolve(boards, rule, steps).reshape(len(boards), -1)
            empirical = (~after.any(axis=1)).mean()
            assert dead_share(rule, steps, size=3) == pytest.approx(empirical, abs=0.015)


# ---------------------------------------------------------------- bad inputs


def test_unknown_rule() -> None:
    with pytest.raises(ValueError, match="'life'"):
        R.evolve(BLOCK, "life", 1)
    with pytest.raises(ValueError, match="'life'"):
        R.get_rule("life")
    with pytest.raises(ValueError, match="'life'"):
        R.ops_evolve(BLOCK.astype(np.float32), "life", 1)
    with pytest.raises(ValueError, match="'life'"):
        R.local_configurations("life")


def test_non_binary_boards() -> None:
    bad = BLOCK.copy()
    bad[0, 0, 0] = 2
    with pytest.raises(ValueError, match="2"):
        R.evolve(bad, "conway", 1)
    with pytest.raises(ValueError, match="value"):
        R.step(bad, "firner")
    with pytest.raises(ValueError, match="0.5"):
        R.evolve(np.full((1, 3, 3), 0.5), "conway", 1)


def test_negative_steps() -> None:
    with pytest.raises(ValueError, match="-1"):
        R.evolve(BLOCK, "conway", -1)
    with pytest.raises(ValueError, match="-1"):
        R.ops_evolve(BLOCK.astype(np.float32), "conway", -1)
    with pytest.raises(ValueError, match="2.5"):
        R.evolve(BLOCK, "conway", 2.5)
    with pytest.raises(ValueError, match="-3"):
        dead_share("conway", -3, size=3)


def test_rank_two_board() -> None:
    with pytest.raises(ValueError, match=r"rank 2.*\(4, 4\)"):
        R.evolve(BLOCK[0], "conway", 1)
    with pytest.raises(ValueError, match="rank 4"):
        R.step(BLOCK[None], "conway")


def test_bad_random_board_arguments() -> None:
    with pytest.raises(ValueError, match="1.5"):
        R.random_boards(3, 5, density=1.5)
    with pytest.raises(ValueError, match="-0.1"):
        R.random_boards(3, 5, density=-0.1)
    with pytest.raises(ValueError, match="-2"):
        R.random_boards(-2, 5)
    with pytest.raises(ValueError, match="0"):
        R.random_boards(2, 0)


def test_all_dead_share_size_limit() -> None:
    with pytest.raises(ValueError, match="6"):
        dead_share("conway", 1, size=6)


@pytest.mark.parametrize("density", [0.5, 0.3])
@pytest.mark.parametrize("rule", ["firner", "conway"])
def test_all_dead_shares_match_brute_force(rule, density):
    """Every 4x4 board evolved and weighed by its probability (65536 boards: several of the
    enumeration's chunks)."""
    size, steps = 4, 6
    codes = np.arange(1 << (size * size))
    boards = ((codes[:, None] >> np.arange(size * size)) & 1).astype(np.uint8)
    live = boards.sum(axis=1)
    probability = density**live * (1 - density) ** (size * size - live)
    boards = boards.reshape(-1, size, size)
    expected = [float(probability[~R.evolve(boards, rule, s).reshape(len(codes), -1).any(1)].sum())
                for s in range(steps + 1)]
    assert np.allclose(R.all_dead_shares(rule, steps, size, density), expected, rtol=1e-12)


def test_all_dead_shares_weighs_density():
    shares = R.all_dead_shares("firner", 0, 3, density=0.3)
    assert shares[0] == pytest.approx(0.7**9)
