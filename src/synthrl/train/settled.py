"""Prompts without learning signal: the bookkeeping behind `train.skip_settled`.

A GRPO group whose completions all get the same reward has zero advantage everywhere: the step
spends its rollouts on it and learns nothing from it. `SettledPrompts` follows each training
prompt's groups by the answer checker's BINARY verdict (correct or not, never the shaped reward
with its format bonus or partial credit): a prompt whose last `window` groups were all correct
(or all wrong) is *settled* and sits out the next `cooldown` optimizer steps; after that it is
drawn again, and one more group without signal settles it again while a group with signal clears
it. It also counts, for `train/metrics.jsonl`, the share of groups without signal (recorded
whether or not skipping is on, so runs with and without it can be compared).

`SettledSampler` replaces TRL's `RepeatSampler` (same output layout, same length, so the same
compute): each generation batch's prompts are drawn lazily, when the trainer asks for them, from
a seeded permutation of the prompts, passing over the settled ones; when the permutation runs
out, a new one starts. If fewer unsettled prompts remain than the batch needs, settled prompts
fill it, least recently settled (or so drawn) first, and are counted (`fallback_prompts`): a
batch is never short. With nothing settled it yields exactly what `RepeatSampler` would under
the same permutation. (The data loader fetches one batch ahead, so with one generation batch per
step a group's verdicts count from the batch after next.)

Pure Python, no torch: `synthrl.train.trl_grpo` wires it to TRL (a `ROW_ID` dataset column
carries each prompt's index to the reward function, whose verdicts `verdict_recorder` passes
here). Deterministic under the permutation's seed and the verdicts.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ROW_ID = "synthrl_row"  # dataset column: the prompt's index in the training rows


@dataclass
class _Prompt:
    solved: bool | None = None  # the direction of the current streak: all correct / all wrong
    streak: int = 0  # groups in a row without signal, in that direction
    until: int = 0  # settled while the step is below this
    settled_at: int = -1  # when it last settled or was drawn to fill a batch (a tick; -1: never)


class SettledPrompts:
    """Per-prompt streaks of groups without signal, and the counters logged per step."""

    def __init__(self, n: int, window: int, cooldown: int) -> None:
        if n < 1 or window < 1 or cooldown < 1:
            raise ValueError("SettledPrompts needs n, window and cooldown >= 1")
        self.n, self.window, self.cooldown = n, window, cooldown
        self.prompts = [_Prompt() for _ in range(n)]
        self.step = 0  # the trainer's optimizer step at the last recorded batch
        self.ticks = 0  # orders settling and fallback draws (several happen within a step)
        self.sampling = False  # a SettledSampler draws from these prompts (skip_settled on)
        self.totals = dict.fromkeys(("groups", "zero_signal", "skipped", "fallback"), 0)
        self._logged = dict(self.totals)

    def record(self, pairs: Iterable[tuple[int, bool]], step: int | None = None) -> None:
        """One generation batch's (prompt index, binary verdict) pairs: each prompt's verdicts in
        the batch form its group."""
        if step is not None:
            self.step = step
        groups: dict[int, list[bool]] = {}
        for index, correct in pairs:
            groups.setdefault(int(index), []).append(bool(correct))
        for index in sorted(groups):
            self._update(index, groups[index])

    def _update(self, index: int, verdicts: Sequence[bool]) -> None:
        prompt = self.prompts[index]
        self.totals["groups"] += 1
        if len(set(verdicts)) != 1:  # some right, some wrong: a learning signal
            prompt.solved, prompt.streak, prompt.until = None, 0, 0
            return
        self.totals["zero_signal"] += 1
        solved = verdicts[0]
        prompt.streak = prompt.streak + 1 if prompt.solved is solved else 1
        prompt.solved = solved
        if prompt.streak >= self.window:
            prompt.until, prompt.settled_at = self.step + self.cooldown, self._tick()
        else:
            prompt.until = 0

    def _tick(self) -> int:
        self.ticks += 1
        return self.ticks

    def is_settled(self, index: int) -> bool:
        return self.prompts[index].until > self.step

    def pass_over(self, index: int) -> None:
        """The sampler skipped this settled prompt."""
        self.totals["skipped"] += 1

    def fallback(self, exclude: set[int], k: int) -> list[int]:
        """`k` settled prompts (least recently settled or drawn this way first, so the fallback
        rotates through them) to fill a batch that too few unsettled prompts could fill; their
        next group settles them again or, if it has signal, clears them."""
        settled = [i for i in range(self.n) if i not in exclude and self.is_settled(i)]
        chosen = sorted(settled, key=lambda i: (self.prompts[i].settled_at, i))[:k]
        for index in chosen:
            self.prompts[index].settled_at = self._tick()
        self.totals["fallback"] += len(chosen)
        return chosen

    def step_metrics(self) -> dict[str, float]:
        """The metrics since the last call, for `train/metrics.jsonl`: the share of groups whose
        completions were all correct or all wrong; with skipping on, the settled prompts passed
        over, those drawn anyway to fill a batch, and how many are settled now."""
        delta = {k: v - self._logged[k] for k, v in self.totals.items()}
        self._logged = dict(self.totals)
        out: dict[str, float] = {}
        if delta["groups"]:
            out["zero_signal_share"] = delta["zero_signal"] / delta["groups"]
        if self.sampling and (delta["groups"] or delta["skipped"] or delta["fallback"]):
            out["skipped_prompts"] = delta["skipped"]
            out["fallback_prompts"] = delta["fallback"]
            out["settled_prompts"] = sum(self.is_settled(i) for i in range(self.n))
        return out

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue after a resume (JSON-serialisable)."""
        return {
            "step": self.step,
            "ticks": self.ticks,
            "totals": dict(self.totals),
            "prompts": [[p.solved, p.streak, p.until, p.settled_at] for p in self.prompts],
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore `state_dict()`'s output; one for a different number of prompts is ignored."""
        rows = state.get("prompts") or []
        if len(rows) != self.n:
            return
        self.prompts = [_Prompt(*row) for row in rows]
        self.step = int(state.get("step", 0))
        self.ticks = int(state.get("ticks", 0))
        self.totals.update(state.get("totals") or {})
        self._logged = dict(self.totals)


def seeded_permutation(seed: int) -> Callable[[int], list[int]]:
    """A permutation source for `SettledSampler` (the TRL hook passes torch's instead, as
    `RepeatSampler` draws them)."""
    rng = random.Random(seed)
    return lambda n: rng.sample(range(n), n)


class SettledSampler:
    """TRL's `RepeatSampler` layout (each chunk of `batch_size` prompts repeated `repeat_count`
    times, each prompt `mini_repeat_count` times in a row; `len(dataset) // batch_size` chunks
    per epoch), with the chunk's prompts drawn from those not settled."""

    def __init__(
        self,
        prompts: SettledPrompts,
        batch_size: int,
        mini_repeat_count: int,
        repeat_count: int,
        permute: Callable[[int], list[int]],
    ) -> None:
        self.prompts, self.batch_size, self.permute = prompts, batch_size, permute
        self.mini_repeat_count, self.repeat_count = mini_repeat_count, repeat_count
        prompts.sampling = True

    def __len__(self) -> int:
        n = self.prompts.n
        return (n // self.batch_size) * self.batch_size * self.mini_repeat_count * self.repeat_count

    def __iter__(self) -> Iterator[int]:
        queue: deque[int] = deque(self.permute(self.prompts.n))
        for _ in range(self.prompts.n // self.batch_size):
            chunk = self.draw(queue)
            for _ in range(self.repeat_count):
                for index in chunk:
                    yield from [index] * self.mini_repeat_count

    def draw(self, queue: deque[int]) -> list[int]:
        """One chunk of distinct prompts: the next unsettled ones of `queue` (a new permutation
        when it runs out), then, if too few are unsettled, settled ones."""
        chunk: list[int] = []
        taken: set[int] = set()
        while len(chunk) < self.batch_size:
            if not queue:
                if not self._unsettled_left(taken):
                    break
                queue.extend(self.permute(self.prompts.n))
            index = queue.popleft()
            if index in taken:
                continue
            if self.prompts.is_settled(index):
                self.prompts.pass_over(index)
                continue
            chunk.append(index)
            taken.add(index)
        if len(chunk) < self.batch_size:
            chunk += self.prompts.fallback(taken, self.batch_size - len(chunk))
        return chunk

    def _unsettled_left(self, taken: set[int]) -> bool:
        return any(i not in taken and not self.prompts.is_settled(i) for i in range(self.prompts.n))


def verdict_recorder(
    prompts: SettledPrompts, gather: Callable[[list[Any]], list[Any]] | None = None
) -> Callable[[Sequence[bool], Mapping[str, Any]], None]:
    """The reward function's `on_verdicts` hook: pair each binary verdict with its prompt's
    `ROW_ID` column and record them at the trainer's step (TRL passes `trainer_state` among
    the columns). `gather`: collect the pairs of every process (several GPUs), so that every
    process's sampler sees the same verdicts and draws the same prompts."""

    def record(verdicts: Sequence[bool], columns: Mapping[str, Any]) -> None:
        ids = columns.get(ROW_ID)
        if ids is None:
            return
        pairs = [(int(i), bool(v)) for i, v in zip(ids, verdicts, strict=True)]
        if gather is not None:
            pairs = [tuple(p) for p in gather(pairs)]
        state = columns.get("trainer_state")
        prompts.record(pairs, getattr(state, "global_step", None))

    return record
