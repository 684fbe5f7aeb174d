"""A forecast of what a run will cost before it starts: model requests, tokens, USD and hours per
stage, from the configuration (N, k, L, M, training steps, max tokens), the price table and the
speed of each backend: measured on the project's 2-core machine for the embedded models
(docs/benchmarks.md), declared for other kinds. `synthrl plan TASK.yaml` prints it; `synthrl run`
prints it and stops when it is far beyond what the machine can do (`STOP_HOURS`) unless `--yes`.

Every number is an estimate: completion tokens are counted at their `max_tokens` limits (an
upper bound: completions that stop early cost less; parse retries and top-ups cost more), prompt
tokens from typical prompt sizes, and hours from speeds that vary with the machine.

    fc = forecast(task, config, ["keywords", ..., "evaluate"])
    fc.hours, fc.usd, fc.too_long
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from synthrl.artifacts import RunDir
from synthrl.config import RunConfig
from synthrl.llm.registry import parse_spec, pricing
from synthrl.llm.usage import Ledger, format_usd, load_prices
from synthrl.task import Task

STOP_HOURS = 72.0  # `synthrl run` stops above this (unless --yes): far beyond a machine's day

# Typical prompt tokens per request (instructions, passage, sample), for USD and prefill time.
PROMPT_TOKENS = {"keywords": 250, "pattern": 400, "rewrite": 450, "vote": 250, "solve": 150}
MEASURED = "measured"  # on the project's 2-core machine: docs/benchmarks.md


@dataclass(frozen=True)
class Speed:
    """Completion tokens per second of one engine on the whole machine (greedy requests, and
    sampled ones decoded together), prompt tokens per second, and where the numbers come from."""

    greedy: float
    sampled: float
    prefill: float
    basis: str

    def scaled(self, factor: float, basis: str) -> Speed:
        return Speed(self.greedy * factor, self.sampled * factor, self.prefill * factor, basis)


# The embedded models on llama.cpp (2 threads): base greedy one at a time 18 tok/s, batched
# greedy ~35, batched sampling 76-82; instructor ~12 one at a time, ~25 batched.
EMBEDDED_SPEEDS = {
    "base": Speed(18.0, 76.0, 400.0, MEASURED),
    "instructor": Speed(12.0, 25.0, 150.0, MEASURED),
    "small": Speed(42.0, 100.0, 600.0, "declared"),
}
BATCHED_GREEDY_BASE = 35.0  # llm.batch_greedy / evaluate.engine=llamacpp, embedded base
EMBEDDED_BASE_BYTES = 491_000_000  # other GGUFs: speed scaled by file size (memory-bound)
API_STREAM = 60.0  # declared tokens/s of one API stream; times llm.concurrency
DECLARED = {
    "vllm": Speed(1500.0, 3000.0, 20000.0, "declared"),
    "hf-gpu": Speed(150.0, 600.0, 5000.0, "declared"),
    "hf-cpu": Speed(8.0, 15.0, 100.0, "declared"),
}
# GRPO seconds per rollout token (generation, scoring and backward together): 6 steps of
# 6 x 128 tokens took 64-77 s each with LoRA on the embedded base (a full fine-tune as long).
TRAIN_S_PER_TOKEN_CPU = 0.09
TRAIN_S_PER_TOKEN_GPU = 1 / 2000  # declared, one GPU


@dataclass
class StageForecast:
    stage: str
    what: str = ""  # e.g. "votes (k = 16)"
    model: str = ""
    requests: int = 0
    samples: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0  # at most (each completion at its max_tokens)
    usd: float | None = 0.0  # None: the model's price is unknown
    seconds: float = 0.0
    basis: str = ""


@dataclass
class Forecast:
    rows: list[StageForecast] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)  # stages that will be skipped (finished)

    @property
    def hours(self) -> float:
        return sum(r.seconds for r in self.rows) / 3600

    @property
    def usd(self) -> float:
        return sum(r.usd or 0.0 for r in self.rows)

    @property
    def usd_known(self) -> bool:
        return all(r.usd is not None for r in self.rows)

    @property
    def usd_text(self) -> str:
        return format_usd(self.usd, 0 if self.usd_known else 1)

    @property
    def too_long(self) -> bool:
        return self.hours > STOP_HOURS


def gpu() -> bool:
    """Whether a CUDA GPU is visible (torch imported only when installed)."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


def _cpu_factor() -> float:
    """llama.cpp decoding is memory-bound: more cores help, a little (measured on 2)."""
    return min(max((os.cpu_count() or 2) / 2, 1.0), 3.0)


def speed(spec: str, config: RunConfig, has_gpu: bool) -> Speed:
    """How fast the model `spec` generates on this machine (measured or declared)."""
    kind, rest = parse_spec(spec)
    if kind == "embedded" and rest in EMBEDDED_SPEEDS:
        found = EMBEDDED_SPEEDS[rest]
        if rest == "base" and config.llm.batch_greedy:
            found = Speed(BATCHED_GREEDY_BASE, found.sampled, found.prefill, found.basis)
        return found.scaled(_cpu_factor(), found.basis)
    if kind == "gguf":
        from pathlib import Path

        path = Path(rest).expanduser()
        size = path.stat().st_size if path.is_file() else EMBEDDED_BASE_BYTES
        factor = EMBEDDED_BASE_BYTES / max(size, 1) * _cpu_factor()
        return EMBEDDED_SPEEDS["base"].scaled(factor, "declared")
    if kind == "openai":
        rate = API_STREAM * config.llm.concurrency
        basis = "declared"
        return Speed(rate, rate, rate * 10, basis)
    if kind == "vllm":
        return DECLARED["vllm"]
    return DECLARED["hf-gpu" if has_gpu else "hf-cpu"]


@dataclass(frozen=True)
class Work:
    """`requests` requests by `role`, each for `per` completions of up to `max_tokens`."""

    stage: str
    what: str
    role: str
    requests: int
    per: int
    max_tokens: int
    prompt: int  # prompt tokens per request
    sampled: bool = True  # temperature > 0 (decoded together) or greedy


@dataclass
class _Context:
    task: Task
    config: RunConfig
    ledger: Ledger
    gpu: bool

    def inference(self, role: str) -> str:
        """The spec that answers `role`'s requests (the base's endpoint when one is set)."""
        from synthrl.pipeline import inference_spec

        return inference_spec(self.config, role)

    def row(self, work: Work) -> StageForecast:
        spec = self.inference(work.role)
        rate = speed(spec, self.config, self.gpu)
        completion = work.requests * work.per * work.max_tokens
        prompt = work.requests * work.prompt
        seconds = completion / (rate.sampled if work.sampled else rate.greedy)
        seconds += prompt / rate.prefill
        name, provider, free = pricing(spec)
        usd = self.ledger.price(name, prompt, completion, provider, free)
        return StageForecast(
            work.stage, work.what, spec, work.requests, work.requests * work.per, prompt,
            completion, usd, seconds, rate.basis,
        )  # fmt: skip


def _synthesis(stage: str, ctx: _Context) -> list[Work]:
    """What the stages that call models on synthetic samples ask for."""
    c, n, k = ctx.config, ctx.config.generate.n, ctx.config.verify.k
    p = PROMPT_TOKENS
    vote = Work(stage, f"votes (k = {k})", "instructor", n, k, c.verify.max_tokens, p["vote"])
    if stage == "keywords" and c.retrieve.enabled:
        return [Work(stage, "keywords", "instructor", 1, 1, c.keywords.max_tokens, p["keywords"])]
    if stage == "pattern" and ctx.task.demos and c.pattern.enabled:
        return [Work(stage, "pattern", "instructor", 1, 1, c.generate.max_tokens, p["pattern"])]
    if stage == "generate":
        passage = int(c.retrieve.chunk_words * 1.4) if c.retrieve.enabled else 0
        prompt = p["rewrite"] + passage  # instructions and a passage
        return [
            Work(stage, f"samples (N = {n})", "instructor", n, 1, c.generate.max_tokens, prompt)
        ]
    if stage == "verify":
        return [vote]
    if stage == "probe":
        return [Work(stage, "greedy answers", "base", n, 1, c.probe.max_tokens, p["solve"], False)]
    if stage == "adapt" and c.adapt.enabled:
        return [Work(stage, "rewrites", "instructor", n, 1, c.adapt.max_tokens, p["rewrite"]), vote]
    if stage == "score":
        scored = 2 * n if c.adapt.enabled else n  # the initial samples and their rewrites
        what = f"completions (L = {c.score.samples})"
        return [Work(stage, what, "base", scored, c.score.samples, c.score.max_tokens, p["solve"])]
    return []


def _train(ctx: _Context) -> StageForecast:
    cfg, m = ctx.config.train, ctx.config.select.m
    steps = cfg.max_steps or math.ceil(math.ceil(m / cfg.prompts_per_step) * cfg.epochs)
    rollouts = steps * cfg.prompts_per_step * cfg.num_generations
    tokens = rollouts * cfg.max_completion_tokens
    if ctx.gpu:
        per_token, basis = TRAIN_S_PER_TOKEN_GPU, "declared"
    else:  # measured for the embedded 0.5B base: larger bases are slower
        per_token, basis = TRAIN_S_PER_TOKEN_CPU, MEASURED
    what = f"GRPO steps ({cfg.prompts_per_step} x {cfg.num_generations} rollouts)"
    prompt = steps * cfg.prompts_per_step * PROMPT_TOKENS["solve"]
    return StageForecast(
        "train", what, ctx.config.models.base, steps, rollouts, prompt, tokens, 0.0,
        tokens * per_token, basis,
    )  # fmt: skip


def _evaluate(ctx: _Context) -> tuple[StageForecast | None, str | None]:
    """Base and trained model on the task's evaluation set (in-process, as the stage runs)."""
    from synthrl.errors import SynthRLError
    from synthrl.evaluate.loaders import task_items

    cfg, base = ctx.config.evaluate, ctx.config.models.base
    try:
        found = task_items(ctx.task, cfg.limit)
    except SynthRLError as err:
        return None, f"evaluate not counted: {err}"
    if found is None:
        return None, None
    requests = 2 * len(found[0]) * (1 if cfg.temperature == 0 else len(cfg.seeds))
    if cfg.trained_endpoint:  # both models through their servers
        base = ctx.inference("base")
    rate = speed(base, ctx.config, ctx.gpu)
    if parse_spec(base)[0] in ("embedded", "gguf") and not ctx.gpu:  # batched greedy llama.cpp
        rate = Speed(BATCHED_GREEDY_BASE * _cpu_factor(), rate.sampled, rate.prefill, rate.basis)
    completion, prompt = requests * cfg.max_tokens, requests * PROMPT_TOKENS["solve"]
    per_s = rate.greedy if cfg.temperature == 0 else rate.sampled
    seconds = completion / per_s + prompt / rate.prefill
    what = f"{len(found[0])} items x 2 models"
    row = StageForecast(
        "evaluate", what, base, requests, requests, prompt, completion, 0.0, seconds, rate.basis
    )
    return row, None


def forecast(
    task: Task,
    config: RunConfig,
    plan: Sequence[str],
    done: Sequence[str] = (),
    ledger: Ledger | None = None,
    has_gpu: bool | None = None,
) -> Forecast:
    """The forecast of running the stages in `plan` (those in `done` are skipped)."""
    ledger = ledger or Ledger(load_prices(config.llm.prices_file))
    ctx = _Context(task, config, ledger, gpu() if has_gpu is None else has_gpu)
    result = Forecast(done=[s for s in plan if s in done])
    for stage in plan:
        if stage in done:
            continue
        if stage == "train":
            result.rows.append(_train(ctx))
        elif stage == "evaluate":
            row, note = _evaluate(ctx)
            result.rows += [row] if row else []
            result.notes += [note] if note else []
        else:
            result.rows += [ctx.row(work) for work in _synthesis(stage, ctx)]
    result.notes.append(
        "These are estimates: completions are counted at their max_tokens (an upper bound), "
        "prompts at typical sizes; parse retries, top-ups and adaptive scoring's early stops are "
        "not. Hours come from each engine's speed, measured for the embedded models on 2 CPU "
        "cores (docs/benchmarks.md; training measured on the 0.5B base) or declared for others."
    )
    return result


def audit_forecast(
    task: Task, config: RunConfig, items: int, with_base: bool, has_gpu: bool | None = None
) -> Forecast:
    """What `synthrl audit` on `items` items asks for: every one of the k votes per item (the
    audit draws them all, whatever `verify.adaptive` says) and, `with_base`, one greedy answer
    of the base model each."""
    ledger = Ledger(load_prices(config.llm.prices_file))
    ctx = _Context(task, config, ledger, gpu() if has_gpu is None else has_gpu)
    c, p = config, PROMPT_TOKENS
    k = c.verify.k
    works = [
        Work("audit", f"votes (k = {k})", "instructor", items, k, c.verify.max_tokens, p["vote"])
    ]
    if with_base:
        what, solve = "greedy answers", p["solve"]
        works.append(Work("audit", what, "base", items, 1, c.probe.max_tokens, solve, False))
    return Forecast(rows=[ctx.row(work) for work in works])


def plan_forecast(
    task: Task,
    config: RunConfig,
    run: RunDir,
    start: str | None = None,
    stop: str | None = None,
    force: bool = False,
) -> Forecast:
    """The forecast of `synthrl run` on `run` with these --from / --to / --force: stages that
    finished with the same fingerprint (and come before any that will run) are skipped."""
    from synthrl.pipeline import fingerprint, select_stages
    from synthrl.rounds import plan

    pairs = [(stage, seg) for seg in plan(config, run) for stage in seg.stages]
    selected = pairs[: len(select_stages([stage for stage, _ in pairs], start, stop))]
    names = [stage.name for stage, _ in pairs]
    first_forced = names.index(start) if start else len(names)
    done: list[str] = []
    for index, (stage, seg) in enumerate(selected):
        manifest = seg.run.manifest(stage.name)
        if force or index >= first_forced or manifest is None:
            break
        if manifest.get("fingerprint") != fingerprint(stage, task, seg.config, seg.run):
            break
        done.append(stage.name)
    if config.rounds == 1:
        return forecast(task, config, [stage.name for stage, _ in selected], done)
    return rounds_forecast(task, config, [(s.name, seg.config) for s, seg in selected], done)


def rounds_forecast(
    task: Task, config: RunConfig, plan: Sequence[tuple[str, RunConfig]], done: Sequence[str]
) -> Forecast:
    """The forecast of a run in rounds: each stage with its round's settings; round r's pool
    counted at N x 2^(r-1) samples (at most one rewrite per sample and round), sampled at the
    base model's speed."""
    ledger, has_gpu = Ledger(load_prices(config.llm.prices_file)), gpu()
    result = Forecast(done=[name for name, _ in plan if name in done])
    for name, cfg in plan:
        if name in done:
            continue
        head, _, stage = name.rpartition("/")
        r = int(head.removeprefix("round-")) if head else 1
        if r > 1 and stage != "evaluate":
            pool = config.generate.model_copy(update={"n": config.generate.n * 2 ** (r - 1)})
            cfg = cfg.model_copy(update={"models": config.models, "generate": pool})
        part = forecast(task, cfg, [stage], ledger=ledger, has_gpu=has_gpu)
        for row in part.rows:
            row.stage = name
        result.rows += part.rows
        result.notes += [note for note in part.notes if note not in result.notes]
    result.notes.append(
        "Rounds: round r's stages count its pool at N x 2^(r-1) samples (an upper bound) and "
        "sample the previous round's model at the base model's speed."
    )
    return result
