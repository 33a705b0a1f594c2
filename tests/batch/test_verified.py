"""The calls of a traced run that are checked after it: the first two, and
twelve drawn uniformly from all the others, by a generator the student's
process cannot predict."""

from __future__ import annotations

from collections import Counter

import numpy as np

from grader.plugin import verified


def draw(total: int, reservoir: verified.Reservoir | None = None) -> list[int]:
    """The positions a reservoir keeps of ``total`` calls."""
    reservoir = reservoir or verified.Reservoir()
    for n in range(total):
        slot = reservoir.slot()
        reservoir.keep(slot, "unit", ((n,), {}, None) if slot is not None else None, {})
    return [k.position for k in reservoir.kept()]


def test_the_first_calls_are_always_kept_and_then_the_sample_size():
    for total in (1, 2, 3, 14, 15, 500):
        kept = draw(total)
        assert kept[: min(total, verified.FIRST)] == list(range(min(total, verified.FIRST)))
        assert len(kept) == min(total, verified.FIRST + verified.SAMPLED)
        assert kept == sorted(set(kept))


def test_a_kept_call_holds_the_arguments_it_was_kept_with():
    reservoir = verified.Reservoir()
    positions = draw(100, reservoir)
    assert [k.args for k in reservoir.kept()] == [(n,) for n in positions]


def test_every_later_call_is_equally_likely_to_be_checked():
    total, runs = 60, 3000
    counts = Counter(p for _ in range(runs) for p in draw(total))
    later = np.array([counts[p] for p in range(verified.FIRST, total)], dtype=float)
    expected = runs * verified.SAMPLED / (total - verified.FIRST)  # 620.7
    # binomial standard deviation about 23: every position within 5 of them
    assert np.all(np.abs(later - expected) < 5 * np.sqrt(expected))
    # and not in any fixed pattern: the last calls as often as the first ones
    assert abs(later[:20].mean() - later[-20:].mean()) < 0.1 * expected


def test_two_runs_do_not_check_the_same_calls():
    draws = {tuple(draw(1000)) for _ in range(5)}
    assert len(draws) == 5
