"""`train.skip_settled`'s bookkeeping (synthrl.train.settled) with scripted verdicts and a
scripted reward, no model: prompts all correct (or all wrong) for `window` groups are skipped,
come back after `cooldown` steps, batches are never short, the binary verdict (not the shaped
reward) decides, and the draws are deterministic under a seed."""

from __future__ import annotations

import json
from collections import deque
from types import SimpleNamespace

import pytest

from synthrl.answers import make_reward_fn
from synthrl.train.settled import (
    ROW_ID,
    SettledPrompts,
    SettledSampler,
    seeded_permutation,
    verdict_recorder,
)


def in_order(n: int) -> list[int]:
    return list(range(n))


def group(index: int, correct: bool, size: int = 4) -> list[tuple[int, bool]]:
    return [(index, correct)] * size


def test_a_prompt_all_correct_for_window_groups_is_skipped_until_the_cooldown_ends() -> None:
    prompts = SettledPrompts(4, window=2, cooldown=3)
    sampler = SettledSampler(
        prompts, batch_size=2, mini_repeat_count=2, repeat_count=1, permute=in_order
    )
    prompts.record(group(0, True), step=0)
    assert not prompts.is_settled(0)  # one group is not yet a streak
    prompts.record(group(0, True), step=1)
    assert prompts.is_settled(0)
    assert sampler.draw(deque(range(4))) == [1, 2]  # 0 passed over
    assert prompts.totals["skipped"] == 1
    prompts.record([*group(1, True), (2, True), (2, False)], step=3)  # the clock moves on
    assert prompts.is_settled(0)  # settled at step 1, sits out steps 1, 2, 3
    prompts.record(group(1, False), step=4)
    assert not prompts.is_settled(0)
    assert sampler.draw(deque(range(4))) == [0, 1]  # back
    prompts.record(group(0, True), step=4)  # still no signal: settled again at once
    assert prompts.is_settled(0)
    prompts.record([(0, True), (0, False)], step=5)  # a group with signal clears it
    assert not prompts.is_settled(0) and prompts.prompts[0].streak == 0


def test_all_wrong_settles_too_but_a_change_of_direction_restarts_the_streak() -> None:
    prompts = SettledPrompts(2, window=2, cooldown=5)
    prompts.record(group(0, True) + group(1, False), step=0)
    prompts.record(group(0, False) + group(1, False), step=1)
    assert not prompts.is_settled(0)  # solved, then failed: two different one-group streaks
    assert prompts.is_settled(1)
    assert prompts.step_metrics() == {"zero_signal_share": 1.0}  # sampling off: share only


def test_the_batch_is_never_short_settled_prompts_fill_it_least_recently_settled_first() -> None:
    prompts = SettledPrompts(4, window=1, cooldown=100)
    sampler = SettledSampler(
        prompts, batch_size=3, mini_repeat_count=2, repeat_count=2, permute=in_order
    )
    for step, index in enumerate((2, 0, 3)):  # settled in this order
        prompts.record(group(index, False), step=step)
    assert sampler.draw(deque(range(4))) == [1, 2, 0]  # the one unsettled, then the oldest two
    assert prompts.totals["fallback"] == 2
    assert sampler.draw(deque(range(4))) == [1, 3, 2]  # the fallback rotates
    prompts.record(group(1, True), step=3)  # now every prompt is settled
    assert sampler.draw(deque(range(4))) == [0, 3, 2]
    stream = list(sampler)  # whole epochs: full chunks, each repeated, the layout of TRL's
    assert len(stream) == len(sampler) == 1 * 3 * 2 * 2
    chunk = [stream[0], stream[2], stream[4]]
    assert len(set(chunk)) == 3 and stream == [i for i in chunk for _ in (0, 1)] * 2
    metrics = prompts.step_metrics()
    assert metrics["settled_prompts"] == 4 and metrics["fallback_prompts"] == 10
    assert prompts.step_metrics() == {}  # nothing new since


def test_with_nothing_settled_the_draws_are_the_permutation_in_order() -> None:
    prompts = SettledPrompts(7, window=2, cooldown=3)
    sampler = SettledSampler(
        prompts, batch_size=3, mini_repeat_count=2, repeat_count=1, permute=seeded_permutation(5)
    )
    order = seeded_permutation(5)(7)
    assert list(sampler) == [i for i in order[:6] for _ in (0, 1)]  # the tail is dropped


RIGHT_IN_FORMAT, RIGHT_LENIENT = "so it is 18.\n#### 18", "the answer is \\boxed{18}"
WRONG_IN_FORMAT, WRONG = "#### 17", "no idea"


def test_the_binary_verdict_decides_not_the_shaped_reward() -> None:
    """Format bonus and partial credit spread the rewards of a group that is all correct (or all
    wrong): TRL sees a reward std > 0, yet the group teaches nothing about the task."""
    prompts = SettledPrompts(3, window=1, cooldown=10)
    reward = make_reward_fn(
        "number", format_weight=0.1, lenient_credit=0.5, on_verdicts=verdict_recorder(prompts)
    )
    texts = [RIGHT_IN_FORMAT, RIGHT_LENIENT, WRONG_IN_FORMAT, WRONG, RIGHT_LENIENT, WRONG]
    rows = [0, 0, 1, 1, 2, 2]
    state = SimpleNamespace(global_step=4)
    scores = reward(texts, ["18"] * 6, **{ROW_ID: rows, "trainer_state": state})
    assert scores == pytest.approx([1.1, 0.5, 0.1, 0.0, 0.5, 0.0])  # no group has equal rewards
    assert prompts.is_settled(0) and prompts.is_settled(1)  # all right; all wrong
    assert not prompts.is_settled(2)  # one right, one wrong
    assert prompts.step == 4 and prompts.prompts[0].until == 14
    assert prompts.step_metrics()["zero_signal_share"] == pytest.approx(2 / 3)
    # equal shaped rewards, but one answer right and one wrong: a learning signal
    paper = make_reward_fn("number", format_weight=0.0, on_verdicts=verdict_recorder(prompts))
    paper([RIGHT_LENIENT, WRONG], ["18", "18"], **{ROW_ID: [0, 0]})
    assert not prompts.is_settled(0)


def test_verdicts_of_every_process_are_gathered_and_a_missing_column_is_ignored() -> None:
    prompts = SettledPrompts(2, window=1, cooldown=2)
    other_process = [(1, True), (1, True)]
    record = verdict_recorder(prompts, gather=lambda pairs: pairs + other_process)
    record([True, True], {ROW_ID: [0, 0]})
    assert prompts.is_settled(0) and prompts.is_settled(1)
    verdict_recorder(prompts)([False], {})  # no row ids (not our dataset): nothing recorded
    assert prompts.totals["groups"] == 2


def simulate(seed: int, window: int, steps: int = 24) -> tuple[list[int], dict[str, int]]:
    """A scripted model: prompts 0-3 always right, 4-5 always wrong, 6-7 half right; each chunk
    of 2 prompts x 4 completions is one optimizer step. Returns the prompts drawn per step."""
    prompts = SettledPrompts(8, window=window, cooldown=8)
    reward = make_reward_fn("number", format_weight=0.1, on_verdicts=verdict_recorder(prompts))
    sampler = SettledSampler(
        prompts, batch_size=2, mini_repeat_count=4, repeat_count=1, permute=seeded_permutation(seed)
    )
    drawn: list[int] = []
    while len(drawn) < steps * 2:
        stream = iter(sampler)  # one epoch: 4 chunks
        for chunk in zip(*[stream] * 8, strict=False):
            rows = list(chunk)
            right = [i < 4 or (i >= 6 and k % 2 == 1) for k, i in enumerate(rows)]
            texts = [RIGHT_IN_FORMAT if ok else WRONG for ok in right]
            state = SimpleNamespace(global_step=len(drawn) // 2)
            reward(texts, ["18"] * 8, **{ROW_ID: rows, "trainer_state": state})
            drawn += rows[::4]
    return drawn[: steps * 2], dict(prompts.totals)


def test_skipping_spends_the_rollouts_on_prompts_with_signal_deterministically() -> None:
    drawn, totals = simulate(seed=1, window=2)
    assert simulate(seed=1, window=2) == (drawn, totals)  # same seed, same draws
    assert simulate(seed=2, window=2)[0] != drawn
    late = drawn[16:]  # after every prompt had two turns
    assert late.count(6) + late.count(7) > len(late) / 2  # the half-right prompts dominate
    assert totals["skipped"] > 0 and len(drawn) == 48  # never short
    plain, plain_totals = simulate(seed=1, window=1000)  # nothing ever settles: TRL's order
    assert plain[:8] == drawn[:8] and plain_totals["skipped"] == 0
    assert plain_totals["zero_signal"] == 36  # 3 in 4 groups without signal
    assert totals["zero_signal"] < 24  # with skipping: under half


def test_the_state_survives_a_resume() -> None:
    prompts = SettledPrompts(3, window=1, cooldown=5)
    prompts.record(group(2, True) + group(0, False), step=7)
    prompts.pass_over(2)
    state = json.loads(json.dumps(prompts.state_dict()))  # as written beside a checkpoint
    resumed = SettledPrompts(3, window=1, cooldown=5)
    resumed.load_state_dict(state)
    assert [resumed.is_settled(i) for i in range(3)] == [True, False, True]
    assert resumed.step == 7 and resumed.totals == prompts.totals and resumed.ticks == 2
    assert resumed.step_metrics() == {}  # counted before the resume, logged before it
    other = SettledPrompts(4, window=1, cooldown=5)
    other.load_state_dict(state)  # another training set: start afresh
    assert not any(other.is_settled(i) for i in range(4))
