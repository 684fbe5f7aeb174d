"""score: the base model samples L completions per synthetic sample at temperature 0.7; each is
judged by the answer checker; score = pass rate, or 1 if never solved (paper 4.3, eq. 7).

With `score.adaptive`, completions are drawn in rounds and a sample stops early once its side of
the selection cut is clear (see `synthrl.scoring`). Each round's completions are cached per sample
index, so a killed run replays finished rounds from the cache.

Writes `score/scores.jsonl` ({id, origin, attempts, correct, score, pass_rate, stopped,
completion_tokens, answers}) and `score/histograms.json` (pass-rate histograms, paper Fig. 3).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from synthrl.answers import extract, judge_many
from synthrl.artifacts import write_json, write_jsonl
from synthrl.config import RunConfig, ScoreConfig
from synthrl.llm.base import Request, Result
from synthrl.pipeline import Stage, StageContext, StageOutput
from synthrl.prompts import solve_messages
from synthrl.scoring import Tally, eq7_score, histogram, update_stops
from synthrl.task import Task

Generate = Callable[[list[Request], str], list[Result]]


def score_samples(
    generate: Generate,
    task: Task,
    samples: list[dict[str, Any]],
    cfg: ScoreConfig,
    m: int,
    seed: int,
) -> list[dict[str, Any]]:
    """Eq. 7 scores for `samples` (rounds and early stops when `cfg.adaptive`)."""
    tallies = [Tally() for _ in samples]
    answers: list[list[str | None]] = [[] for _ in samples]
    tokens = [0] * len(samples)
    truncated = [0] * len(samples)
    step = cfg.round_size if cfg.adaptive else cfg.samples
    kind = task.answer.kind
    while True:
        active = [i for i, t in enumerate(tallies) if not t.stopped and t.attempts < cfg.samples]
        if not active:
            break
        requests = [
            Request.chat(
                solve_messages(task, samples[i]["input"]),
                n=min(step, cfg.samples - tallies[i].attempts),
                temperature=cfg.temperature,
                max_tokens=cfg.max_tokens,
                seed=seed,
                first_sample=tallies[i].attempts,
            )
            for i in active
        ]
        done = tallies[active[0]].attempts
        results = generate(requests, f"score ({done}/{cfg.samples} per sample)")
        for i, result in zip(active, results, strict=True):
            opts = task.checker_options(samples[i]["input"])
            cuts = [s.finish_reason == "length" for s in result.samples]
            verdicts = judge_many(result.texts, samples[i]["label"], kind, cuts, **opts)
            tallies[i].attempts += len(verdicts)
            tallies[i].correct += sum(verdicts)
            tokens[i] += result.completion_tokens
            truncated[i] += sum(cuts)
            answers[i] += [
                extract(t, kind, truncated=c, **opts)
                for t, c in zip(result.texts, cuts, strict=True)
            ]
        if cfg.adaptive:
            update_stops(tallies, cfg.samples, m, cfg.delta)
    return [
        {
            "id": s["id"],
            "origin": s["origin"],
            "attempts": t.attempts,
            "correct": t.correct,
            "score": eq7_score(t.correct, t.attempts),
            "pass_rate": t.correct / t.attempts,
            "stopped": t.stopped,
            "completion_tokens": tokens[i],
            "truncated": truncated[i],
            "answers": answers[i],
        }
        for i, (s, t) in enumerate(zip(samples, tallies, strict=True))
    ]


def run(ctx: StageContext) -> StageOutput:
    cfg = ctx.config.score
    samples = ctx.run.rows("adapt", "samples.jsonl")

    def generate(requests: list[Request], desc: str) -> list[Result]:
        return ctx.generate("base", requests, desc=desc)

    rows = score_samples(generate, ctx.task, samples, cfg, ctx.config.select.m, ctx.config.llm.seed)
    write_jsonl(ctx.out_dir / "scores.jsonl", rows)
    write_json(ctx.out_dir / "histograms.json", histograms(rows))
    completions = sum(r["attempts"] for r in rows)
    counts = {
        "samples": len(rows),
        "completions": completions,
        "full_l_completions": cfg.samples * len(rows),
        "never_solved": sum(r["correct"] == 0 for r in rows),
    }
    return StageOutput(counts)


def histograms(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Pass-rate histograms: initial samples vs the whole set after adaptation (Fig. 3)."""
    initial = [r["pass_rate"] for r in rows if r["origin"] == "initial"]
    return {
        "bins": [round(i / 10, 1) for i in range(11)],
        "initial": histogram(initial),
        "after_adaptation": histogram([r["pass_rate"] for r in rows]),
        "by_origin": {
            origin: histogram([r["pass_rate"] for r in rows if r["origin"] == origin])
            for origin in ("initial", "harder", "easier")
        },
    }


def settings(task: Task, config: RunConfig) -> dict[str, Any]:
    # the stopping rule's settings matter only when it runs: a full-L run's key leaves them out
    unused = set() if config.score.adaptive else {"round_size", "delta"}
    score = config.score.model_dump(exclude=unused)
    return {
        "base": config.models.base,
        "score": score,
        "seed": config.llm.seed,
        "m": config.select.m if config.score.adaptive else None,
        "task": task.fingerprint(),
    }


STAGE = Stage(
    "score",
    run,
    settings,
    inputs=("adapt",),
    summary="pass rate over L samples (eq. 7)",
    models=("base",),
    prompts=("solve",),
)
