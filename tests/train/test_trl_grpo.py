"""The `train.skip_settled` hook into TRL's GRPOTrainer (synthrl.train.trl_grpo), without a
model: the sampler that replaces `_get_train_sampler` has TRL's `RepeatSampler` layout and draws
(same seeded permutations) until a prompt settles; the row ids reach the reward function and its
verdicts reach the bookkeeping; the state is read back from a checkpoint."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from synthrl.answers import make_reward_fn
from synthrl.train.settled import ROW_ID, SettledPrompts, SettledSampler, verdict_recorder

pytest.importorskip("trl")


def fake_trainer(n: int, steps_per_generation: int = 2, num_iterations: int = 1):
    """What the hook reads of a GRPOTrainer: 3 prompts x 2 completions per generation batch."""
    args = SimpleNamespace(
        generation_batch_size=6, steps_per_generation=steps_per_generation, seed=7
    )
    return SimpleNamespace(
        args=args,
        num_generations=2,
        num_iterations=num_iterations,
        shuffle_dataset=True,
        train_dataset=list(range(n)),
    )


def test_the_hook_draws_as_trls_repeat_sampler_until_a_prompt_settles() -> None:
    from trl.trainer.utils import RepeatSampler

    from synthrl.train.trl_grpo import (
        require_sampler_hook,
        torch_permutation,
        use_settled_sampler,
    )

    require_sampler_hook()  # the installed TRL builds its sampler where the hook replaces it
    trainer = fake_trainer(10, steps_per_generation=2, num_iterations=2)
    settled = SettledPrompts(10, window=1, cooldown=100)
    use_settled_sampler(trainer, settled)
    sampler = trainer._get_train_sampler(trainer.train_dataset)
    assert isinstance(sampler, SettledSampler)
    trl = RepeatSampler(range(10), mini_repeat_count=2, batch_size=3, repeat_count=4, seed=7)
    assert len(sampler) == len(trl) == 3 * 3 * 2 * 4
    for _ in range(2):  # two epochs: the generators advance alike
        assert list(sampler) == list(trl)
    order = torch_permutation(7)(10)  # the first epoch's permutation, as TRL draws it
    settled.record([(order[0], True), (order[0], True)], step=0)
    sampler = trainer._get_train_sampler(None)  # a fresh hook: the same seed again
    chunks = [order[1:4], order[4:7], order[7:10]]  # order[0] passed over, the next one drawn
    assert list(sampler) == [i for c in chunks for _ in range(4) for i in c for _ in range(2)]
    assert settled.totals["skipped"] == 1


def test_row_ids_and_the_step_reach_the_bookkeeping_through_the_trl_reward() -> None:
    from synthrl.train.trl_grpo import trl_reward, with_row_ids

    rows = with_row_ids([{"prompt": "a", "answer": "7"}, {"prompt": "b", "answer": "5"}])
    assert [r[ROW_ID] for r in rows] == [0, 1] and rows[0]["prompt"] == "a"
    settled = SettledPrompts(2, window=1, cooldown=3)
    checker = make_reward_fn("number", format_weight=0.1, on_verdicts=verdict_recorder(settled))
    reward = trl_reward(checker, max_tokens=50, eos_ids=[9])
    # as TRL calls it: every dataset column repeated per completion, plus trainer_state
    columns = {ROW_ID: [0, 0, 1, 1], "trainer_state": SimpleNamespace(global_step=3)}
    scores = reward(["#### 7", "7", "#### 5", "#### 4"], ["7", "7", "5", "5"], **columns)
    assert scores == pytest.approx([1.1, 1.0, 1.1, 0.1])
    assert settled.is_settled(0) and not settled.is_settled(1) and settled.step == 3


def test_a_resumed_run_reads_the_state_saved_beside_its_checkpoint(tmp_path: Path) -> None:
    from synthrl.train.metrics import StateFile
    from synthrl.train.trl_grpo import SETTLED_FILE, load_settled

    settled = SettledPrompts(2, window=1, cooldown=3)
    settled.record([(1, False), (1, False)], step=2)
    checkpoint = tmp_path / "checkpoints" / "checkpoint-2"
    checkpoint.mkdir(parents=True)
    state = SimpleNamespace(global_step=2, is_world_process_zero=True)
    args = SimpleNamespace(output_dir=str(tmp_path / "checkpoints"))
    StateFile(SETTLED_FILE, settled.state_dict).on_save(args, state, None)
    assert json.loads((checkpoint / SETTLED_FILE).read_text())["step"] == 2
    resumed = SettledPrompts(2, window=1, cooldown=3)
    load_settled(resumed, str(checkpoint))
    assert resumed.is_settled(1) and not resumed.is_settled(0)
    fresh = SettledPrompts(2, window=1, cooldown=3)
    load_settled(fresh, None)  # no checkpoint
    load_settled(fresh, str(tmp_path))  # a checkpoint from before skip_settled: no file
    assert not fresh.is_settled(1)


def test_skip_settled_trains_a_tiny_model_through_trl(tmp_path: Path) -> None:
    """TRL's own training loop on a tiny random Llama built here (no hub, no real weights): its
    random words never hold the number, so every group is all wrong and settles at once; the
    hooked sampler passes over settled prompts and falls back when all are settled."""
    from synthrl.config import resolve_config
    from synthrl.train.trl_grpo import SETTLED_FILE, train_grpo
    from tests.llm.test_transformers_tiny import build

    model = build(tmp_path / "tiny", pad="<pad>")
    rows = [
        {"prompt": [{"role": "user", "content": f"a b {i}"}], "answer": str(i), "kind": "number"}
        for i in range(3)
    ]
    tiny = {"num_generations": 2, "prompts_per_step": 1, "max_completion_tokens": 8}
    tiny |= {"max_steps": 5, "save_steps": 2, "lora": False, "stop_tokens": []}
    tiny |= {"skip_settled": True, "settle_window": 1, "settle_steps": 100}
    cfg = resolve_config("cpu", overrides={"train": tiny}).train
    seen: list[list[int]] = []

    def spy(completions: list, **columns: object) -> list[float]:
        seen.append(list(columns[ROW_ID]))  # type: ignore[call-overload]
        return [0.0] * len(completions)

    out = tmp_path / "train"
    summary = train_grpo(str(model), rows, cfg, out, "number", extra_rewards=[spy])
    assert summary["steps"] == 5 and len(seen) == 5
    assert all(len(set(group)) == 1 and len(group) == 2 for group in seen)
    drawn = [group[0] for group in seen]
    assert sorted(drawn[:3]) == [0, 1, 2]  # each prompt once before any repeats
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").open()]
    logged = [m for m in metrics if "zero_signal_share" in m]
    assert len(logged) == 5 and all(m["zero_signal_share"] == 1.0 for m in logged)
    assert sum(m["skipped_prompts"] for m in logged) > 0  # the hooked sampler drew
    assert sum(m["fallback_prompts"] for m in logged) > 0  # all settled: the batch still full
    state = json.loads((out / "checkpoints" / "checkpoint-4" / SETTLED_FILE).read_text())
    assert state["totals"]["groups"] == 4
