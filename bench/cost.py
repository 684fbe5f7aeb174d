"""The pipeline's cost against the paper's protocol (issue 17), on one finished run: instructor
completions, tokens and USD at a stated API price, and base-model completions and tokens, per
selected sample, for the paper's protocol (k = 16 votes, L = 64 completions on every sample) and
for what the run did, side by side.

    .venv/bin/python bench/cost.py RUN [--draw] [--cache FILE] [--price-in 0.15 --price-out 0.6]
    .venv/bin/python bench/cost.py --quick   # a small run on the scripted fakes, with --draw

Both protocols count the run's own samples (round 1). keywords, pattern, generate (retries and
top-ups as they happened), probe and adapt's rewrites are the same in both: the run's manifests'
`usage` (tokens of cache hits scaled up from the calls drawn: `est.`). Verification (verify and
adapt's): the paper draws 16 votes a sample in one request, the run `len(answers)` in rounds
(`verify.adaptive`: a first round, then a vote a round, each round a request paying the prompt
again). score: the paper draws 64 a sample in one request, the run `attempts` in
ceil(attempts / round_size) requests (`score.adaptive`).

--draw replays the run's requests, rebuilt by the library (`verify_samples` at k = 16 without
early stops, `score_samples` at L = 64), through the run's backends and call cache: what the run
drew are cache hits, only missing indices are generated, and each request is committed when done
(a killed --draw resumes). Tokens come from every completion; the paper's labels are the library's
majority vote over 16 with the run's min_agreement; label_agreement is the share of the run's kept
samples the paper keeps with an equivalent label. Without --draw the paper's counts are estimated
(the run's mean tokens per request and completion), label_agreement is n/a: `estimate=yes`, MISS.

Instructor USD at --price-in / --price-out per 1M input / output tokens (default gpt-4o-mini's
list price, $0.15 / $0.60), the prompt billed once per request (as an API bills an n-sample
request), no provider prompt caching. Ends with `BENCH cost instructor_ratio=X base_ratio=Y
label_agreement=Z target=... PASS|MISS`, ratios the paper's cost over the run's (2: half),
instructor by USD, base by completions; target (issue 17): >= 2, >= 3, agreement >= 0.98.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PAPER_K, PAPER_L = 16, 64
PRICE_IN, PRICE_OUT = 0.15, 0.60  # gpt-4o-mini, USD per 1M input / output tokens
TARGET_INSTRUCTOR, TARGET_BASE, TARGET_AGREEMENT = 2.0, 3.0, 0.98
VERIFY_REASONS = ("low_agreement", "tied_vote", "no_parseable_vote")
SHARED = {"keywords": "instructor", "pattern": "instructor", "generate": "instructor"}


@dataclass
class Cost:
    """What one protocol spends on one model: requests, completions and tokens."""

    requests: float = 0.0
    completions: float = 0.0
    input_tokens: float = 0.0
    output_tokens: float = 0.0

    def __add__(self, other: Cost) -> Cost:
        return Cost(*(a + b for a, b in zip(self.values(), other.values(), strict=True)))

    def minus(self, other: Cost) -> Cost:
        """This cost less `other`, no field below 0."""
        return Cost(*(max(a - b, 0.0) for a, b in zip(self.values(), other.values(), strict=True)))

    def values(self) -> tuple[float, float, float, float]:
        return self.requests, self.completions, self.input_tokens, self.output_tokens

    def per_request(self) -> float:
        """Mean input tokens per request."""
        return self.input_tokens / self.requests if self.requests else 0.0

    def usd(self, price_in: float, price_out: float) -> float:
        return (self.input_tokens * price_in + self.output_tokens * price_out) / 1e6


@dataclass
class Row:
    """One stage's cost under both protocols; `source` says where the numbers come from."""

    stage: str
    role: str  # instructor | base
    paper: Cost
    ours: Cost
    source: str


@dataclass
class Measurement:
    task: Any
    selected: int
    settings: str
    min_agreement: float = 0.5
    rows: list[Row] = field(default_factory=list)
    agreement: tuple[int, int] | None = None  # (kept with the same label, the run's kept)
    votes: list[dict[str, Any]] = field(default_factory=list)  # drawn: `draw_votes`
    labels: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def verify_rounds(drawn: int, k: int, min_agreement: float, adaptive: bool, delta: float) -> int:
    """Requests `verify_samples` sent for a sample that ended with `drawn` votes: one round of
    all k, or (adaptive) a first round of `earliest_stop` votes, then one vote per round."""
    from synthrl.answers.vote import earliest_stop

    if not adaptive:
        return 1
    return 1 + max(drawn - earliest_stop(k, min_agreement, delta), 0)


def score_rounds(attempts: int, round_size: int, adaptive: bool) -> int:
    """Requests `score_samples` sent for a sample scored with `attempts` completions."""
    return math.ceil(attempts / round_size) if adaptive else 1


def vote_cost(tokens: Sequence[int], prompt: float, drawn: int, rounds: int) -> tuple[Cost, Cost]:
    """(paper, ours) for one verified sample: `tokens` are the completion tokens of the paper's
    votes in draw order (the run's are their first `drawn`); each request pays `prompt`."""
    paper = Cost(1, len(tokens), prompt, sum(tokens))
    return paper, Cost(rounds, drawn, rounds * prompt, sum(tokens[:drawn]))


def ledger_cost(usage: Sequence[dict[str, Any]]) -> tuple[Cost, str]:
    """A stage's cost from its manifest's usage rows, and how it was known: cache hits count at
    what they cost when first drawn (the ledger's `cached_*`); a ledger older than those counters
    has no tokens for its hits, so they are scaled up from the completions drawn ("est.")."""

    def total(key: str) -> float:
        return sum(float(r.get(key) or 0) for r in usage)

    cost = Cost(*map(total, ("requests", "samples", "prompt_tokens", "completion_tokens")))
    hits = total("cache_hits")
    if not hits:
        return cost, "ledger"
    if all("cached_completion_tokens" in r for r in usage):
        cached = ("cached_requests", "cached_prompt_tokens", "cached_completion_tokens")
        requests, prompt, completion = map(total, cached)
        return cost + Cost(requests, 0, prompt, completion), f"ledger ({hits:.0f} cached)"
    if cost.completions <= hits:
        return Cost(0, cost.completions), f"ledger; tokens unknown ({hits:.0f} cache hits)"
    factor = cost.completions / (cost.completions - hits)
    scaled = Cost(
        factor * cost.requests, cost.completions, *(factor * v for v in cost.values()[2:])
    )
    return scaled, f"ledger, est. ({hits:.0f} cache hits)"


def agreement(
    ours: dict[str, str | None], paper: dict[str, str | None], same: Callable[..., bool]
) -> tuple[int, int]:
    """(the run's kept samples the paper keeps with the same label, the run's kept samples):
    `ours` and `paper` map sample ids to labels (None: dropped); `same(id, a, b)` compares."""
    kept = {sid: label for sid, label in ours.items() if label is not None}
    agree = sum(paper.get(i) is not None and same(i, label, paper[i]) for i, label in kept.items())
    return agree, len(kept)


def verified(run: Any) -> dict[str, list[dict[str, Any]]]:
    """The samples verify and adapt voted on, as voted (kept with `label`, dropped with
    `label` None), each with its `answers` (one per vote drawn)."""
    kept = run.rows("verify", "samples.jsonl")
    dropped = run.rows("verify", "dropped.jsonl")
    rewrites = [s for s in run.rows("adapt", "samples.jsonl") if s["origin"] != "initial"]
    unverified = [d for d in run.rows("adapt", "dropped.jsonl") if d["reason"] in VERIFY_REASONS]
    return {
        "verify": kept + [{**d, "label": None} for d in dropped],
        "adapt": rewrites + [{**d, "label": None} for d in unverified],
    }


def check_cached(llm: Any, requests: Sequence[Any], drawn: Sequence[int], allow: bool) -> None:
    """Stop before drawing when the votes the run drew are mostly not in the cache: the wrong
    cache file would make --draw pay for the run's calls again."""
    keys = [
        r.sample_key(llm.backend.name, llm.backend.model, j)
        for r, d in zip(requests, drawn, strict=True)
        for j in range(d)
    ]
    found = len(llm.cache.get_many(keys)) if keys else 0
    if keys and found < 0.9 * len(keys) and not allow:
        raise SystemExit(
            f"only {found} of the {len(keys)} votes the run drew are in {llm.cache.path}: is it "
            "the cache the run used (--cache)? --allow-misses draws them anyway."
        )


def draw_votes(
    llm: Any,
    task: Any,
    config: Any,
    samples: list[dict[str, Any]],
    desc: str,
    how: Draw,
    votes: list[dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, str | None]]:
    """The paper's k = 16 votes on `samples` (a Result by id) and its labels by id (None:
    dropped), from the library's own requests and majority vote; each sample's answers (None:
    unreadable, cut off or failing its arithmetic), in draw order, are added to `votes`."""
    from synthrl.synthesis.samples import verify_requests
    from synthrl.synthesis.votes import verify_samples

    cfg = config.verify.model_copy(update={"k": PAPER_K, "adaptive": False, "delta": 0.0})
    requests = verify_requests(
        task, samples, cfg.k, cfg.temperature, cfg.max_tokens, config.llm.seed
    )
    check_cached(llm, requests, [len(s["answers"]) for s in samples], how.allow)
    results: list[Any] = []

    def generate(requests: list[Any], desc: str = "") -> list[Any]:
        results.extend(llm.generate(requests, stage=f"cost/{desc}", desc=desc))
        return results[-len(requests) :]

    kept, dropped = verify_samples(generate, task, cfg, config.llm.seed, samples, desc=desc)
    labels: dict[str, str | None] = {d["id"]: None for d in dropped}
    labels.update({s["id"]: s["label"] for s in kept})
    answers = {s["id"]: s["answers"] for s in kept + dropped}  # as the vote counted them
    votes.extend({"id": s["id"], "stage": desc, "votes": answers[s["id"]]} for s in samples)
    return {s["id"]: r for s, r in zip(samples, results, strict=True)}, labels


def draw_scores(
    llm: Any, task: Any, config: Any, samples: list[Any], attempts: list[int], allow: bool
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The paper's L = 64 completions per sample (a Result by id) and its score rows."""
    from synthrl.stages.score import score_samples

    cfg = config.score.model_copy(update={"samples": PAPER_L, "adaptive": False})
    results: list[Any] = []

    def generate(requests: list[Any], desc: str) -> list[Any]:
        if not results:
            check_cached(llm, requests, attempts, allow)
        results.extend(llm.generate(requests, stage="cost/score", desc=desc))
        return results[-len(requests) :]

    rows = score_samples(generate, task, samples, cfg, config.select.m, config.llm.seed)
    return {s["id"]: r for s, r in zip(samples, results, strict=True)}, rows


def vote_row(stage: str, samples: list[dict[str, Any]], cfg: Any, led: Cost, draws: Any) -> Row:
    """Verification votes: the paper's k = 16 in one request against the run's rounds; without
    `draws`, tokens by the mean per request and per vote of verify's ledger `led`."""
    paper, ours = Cost(), Cost()
    for s in samples:
        drawn = len(s["answers"])
        rounds = verify_rounds(drawn, cfg.k, cfg.min_agreement, cfg.adaptive, cfg.delta)
        if draws is None:
            tokens = [led.output_tokens / max(led.completions, 1)] * PAPER_K
            prompt = led.per_request()
        else:
            result = draws[s["id"]]
            tokens, prompt = [x.completion_tokens for x in result.samples], result.prompt_tokens
        p, o = vote_cost(tokens, prompt, drawn, rounds)
        paper, ours = paper + p, ours + o
    source = "drawn" if draws is not None else "estimated (verify's mean tokens)"
    return Row(f"{stage}: votes", "instructor", paper, ours, source)


def score_row(cfg: Any, scores: list[dict[str, Any]], led: Cost, draws: Any) -> Row:
    """score: the paper's L = 64 in one request against the run's rounds; without `draws`,
    the run's mean tokens per completion and the ledger's per request."""
    drawn = sum(r["attempts"] for r in scores)
    per = sum(r["completion_tokens"] for r in scores) / max(drawn, 1)
    paper, ours = Cost(), Cost()
    for r in scores:
        rounds = score_rounds(r["attempts"], cfg.round_size, cfg.adaptive)
        if draws is None:
            prompt, full = led.per_request(), PAPER_L * per
        else:
            prompt, full = draws[r["id"]].prompt_tokens, draws[r["id"]].completion_tokens
        paper += Cost(1, PAPER_L, prompt, full)
        ours += Cost(rounds, r["attempts"], rounds * prompt, r["completion_tokens"])
    source = "drawn" if draws is not None else "estimated (the run's mean tokens)"
    return Row("score", "base", paper, ours, source)


def check_ledger(stage: str, usage: list[dict[str, Any]], ours: Cost, notes: list[str]) -> None:
    """Note where the modelled cost of the run differs from what its ledger recorded."""
    led, source = ledger_cost(usage)
    if (
        "est." not in source
        and "unknown" not in source
        and any(abs(a - b) > 0.5 for a, b in zip(led.values(), ours.values(), strict=True))
    ):
        shown = ", ".join(f"{v:,.0f}" for v in led.values())
        notes.append(
            f"check: {stage}'s ledger (requests, completions, tokens in, out) is {shown}; "
            "the table's synthrl row counts its artifacts"
        )


def describe(config: Any) -> str:
    v, s = config.verify, config.score
    votes = f"verify k={v.k}" + (" adaptive" if v.adaptive else "")
    votes += f" delta={v.delta:g}" if v.delta else ""
    score = f"score L={s.samples}" + (f" adaptive (rounds of {s.round_size})" if s.adaptive else "")
    return f"{votes}, {score}"


def measure(run_dir: Path, how: Draw | None = None) -> Measurement:
    """Both protocols' costs on the run in `run_dir`; drawn as `how` says (None: estimated)."""
    from synthrl.run import load_run

    task, config, run, _ = load_run(run_dir)
    if run.manifest("select") is None:
        raise SystemExit(f"{run_dir}: `select` has not finished; run the pipeline up to it first")
    if config.verify.k > PAPER_K or config.score.samples > PAPER_L:
        raise SystemExit(f"the run drew more than k={PAPER_K} / L={PAPER_L}: nothing to compare")
    selected = len(run.rows("select", "selected.jsonl"))
    m = Measurement(task, selected, describe(config), config.verify.min_agreement)
    if config.rounds > 1:
        m.notes.append(f"{config.rounds} rounds: round 1 is measured, later rounds not counted")
    sets, scores = verified(run), run.rows("score", "scores.jsonl")
    votes = scored = None
    if how is not None:
        votes, scored, labels, rows = draw_all(run, config, sets, how, m)
        record_agreement(task, sets, labels, m)
        picked = {s["id"] for s in run.rows("select", "selected.jsonl")}
        m.labels[f"selected by both (SelectTop on L={PAPER_L} scores)"] = len(
            picked & paper_selection(config, rows)
        )
    for stage, role in [*SHARED.items(), ("probe", "base")]:
        if run.manifest(stage) is not None:
            cost, source = ledger_cost(run.manifest(stage)["usage"])
            m.rows.append(Row(stage, role, cost, cost, source))
    verify_led, _ = ledger_cost(run.manifest("verify")["usage"])
    verify, adapt = (vote_row(s, sets[s], config.verify, verify_led, votes) for s in sets)
    adapt_led, source = ledger_cost(run.manifest("adapt")["usage"])
    rewrite = adapt_led.minus(adapt.ours)
    m.rows += [verify, Row("adapt: rewrite", "instructor", rewrite, rewrite, source), adapt]
    score_led, _ = ledger_cost(run.manifest("score")["usage"])
    m.rows.append(score_row(config.score, scores, score_led, scored))
    check_ledger("verify", run.manifest("verify")["usage"], verify.ours, m.notes)
    check_ledger("score", run.manifest("score")["usage"], m.rows[-1].ours, m.notes)
    return m


@dataclass(frozen=True)
class Draw:
    """How --draw reaches the run's models: its call cache, and whether to draw what the run's
    calls should have left there (--allow-misses)."""

    cache: Path
    allow: bool = False
    progress: bool = True


def draw_all(
    run: Any, config: Any, sets: dict[str, list[dict[str, Any]]], how: Draw, m: Measurement
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str | None], list[dict[str, Any]]]:
    """The paper's votes (instructor) and completions (base), one engine at a time, through the
    run's call cache: (votes by id, completions by id, the paper's labels, its score rows)."""
    from synthrl.llm.cache import CallCache
    from synthrl.llm.registry import open_llm
    from synthrl.llm.usage import Ledger
    from synthrl.pipeline import inference_spec

    votes: dict[str, Any] = {}
    labels: dict[str, str | None] = {}
    adapted = run.rows("adapt", "samples.jsonl")
    done = {r["id"]: r["attempts"] for r in run.rows("score", "scores.jsonl")}
    with closing(CallCache(how.cache)) as cache:
        ledger = Ledger()
        spec = inference_spec(config, "instructor")
        with closing(open_llm(spec, config.llm, cache, ledger, how.progress)) as llm:
            for stage, samples in sets.items():
                drawn, found = draw_votes(llm, m.task, config, samples, stage, how, m.votes)
                votes.update(drawn)
                labels.update(found)
        spec = inference_spec(config, "base")
        with closing(open_llm(spec, config.llm, cache, ledger, how.progress)) as llm:
            attempts = [done[s["id"]] for s in adapted]
            scored, rows = draw_scores(llm, m.task, config, adapted, attempts, how.allow)
    usage = ledger.total()
    m.notes.append(
        f"--draw: {usage.cache_hits:,} completions from the call cache, "
        f"{usage.samples - usage.cache_hits:,} drawn now"
    )
    return votes, scored, labels, rows


def record_agreement(
    task: Any, sets: dict[str, list[dict[str, Any]]], paper: dict[str, str | None], m: Measurement
) -> None:
    """The run's kept labels against the paper's, judged by the one answer checker."""
    from synthrl.answers import equivalent

    ours = {s["id"]: s["label"] for samples in sets.values() for s in samples}
    inputs = {s["id"]: s["input"] for samples in sets.values() for s in samples}
    kind = task.answer.kind

    def same(sid: str, a: str, b: str) -> bool:
        return a == b or equivalent(a, b, kind, **task.checker_options(inputs[sid]))

    m.agreement = agreement(ours, paper, same)
    kept = {i for i, label in paper.items() if label is not None}
    m.labels = {"verified": len(ours), "kept by the run": m.agreement[1]}
    m.labels["kept by the paper"] = len(kept)
    m.labels["dropped by the run, kept by the paper"] = sum(ours[i] is None for i in kept)


def paper_selection(config: Any, rows: list[dict[str, Any]]) -> set[str]:
    """The ids SelectTop picks from the paper's L = 64 scores (the run's M and strategy)."""
    from synthrl.scoring import select_top

    table = [(r["id"], r["correct"], r["attempts"]) for r in rows]
    ranked = select_top(table, config.select.m, config.select.strategy, seed=config.llm.seed)
    return {r.id for r in ranked if r.selected}


def totals(m: Measurement, role: str) -> tuple[Cost, Cost]:
    rows = [r for r in m.rows if r.role == role]
    return sum((r.paper for r in rows), Cost()), sum((r.ours for r in rows), Cost())


def ratio(paper: float, ours: float) -> float:
    return paper / ours if ours else math.inf


def report(m: Measurement, price_in: float, price_out: float) -> tuple[float, float]:
    """Print the per-sample and per-stage tables; return (instructor_ratio, base_ratio)."""
    n = max(m.selected, 1)
    print(f"\n{m.selected} selected samples; the run: {m.settings}")
    print(
        f"instructor price: ${price_in:g} / ${price_out:g} per 1M input / output tokens "
        "(default: gpt-4o-mini's list price; --price-in / --price-out)\n"
    )
    print(
        f"| per selected sample | paper (k={PAPER_K}, L={PAPER_L}) | synthrl (this run) | ratio |"
    )
    print("|---|---:|---:|---:|")
    result = {}
    for role in ("instructor", "base"):
        paper, ours = totals(m, role)
        names = ("requests", "completions", "input tokens", "output tokens")
        for name, p, o in zip(names, paper.values(), ours.values(), strict=True):
            print(f"| {role} {name} | {p / n:,.1f} | {o / n:,.1f} | {ratio(p, o):.2f} |")
        if role == "instructor":
            p, o = paper.usd(price_in, price_out), ours.usd(price_in, price_out)
            print(f"| instructor USD | ${p / n:.6f} | ${o / n:.6f} | {ratio(p, o):.2f} |")
            result[role] = ratio(p, o)
        else:
            result[role] = ratio(paper.completions, ours.completions)
    print(
        "\n| stage | model | completions: paper | synthrl | tokens in/out: paper | synthrl | from |"
    )
    print("|---|---|---:|---:|---:|---:|---|")
    for r in m.rows:
        print(
            f"| {r.stage} | {r.role} | {r.paper.completions:,.0f} | {r.ours.completions:,.0f} "
            f"| {r.paper.input_tokens:,.0f} / {r.paper.output_tokens:,.0f} "
            f"| {r.ours.input_tokens:,.0f} / {r.ours.output_tokens:,.0f} | {r.source} |"
        )
    if m.labels:
        print("\nlabels: " + ", ".join(f"{k} {v}" for k, v in m.labels.items()))
    for note in m.notes:
        print(f"note: {note}")
    return result["instructor"], result["base"]


def bench_line(instructor: float, base: float, agreement: tuple[int, int] | None) -> str:
    """The closing BENCH line; without drawn votes the agreement is n/a and the verdict MISS."""
    target = (
        f"target=instructor_ratio>={TARGET_INSTRUCTOR:g},base_ratio>={TARGET_BASE:g},"
        f"label_agreement>={TARGET_AGREEMENT:g}"
    )
    head = f"BENCH cost instructor_ratio={instructor:.2f} base_ratio={base:.2f}"
    if agreement is None:
        return f"{head} label_agreement=n/a estimate=yes {target} MISS"
    agree, kept = agreement
    share = agree / kept if kept else 0.0
    met = instructor >= TARGET_INSTRUCTOR and base >= TARGET_BASE and share >= TARGET_AGREEMENT
    return f"{head} label_agreement={share:.3f} {target} {'PASS' if met else 'MISS'}"


# no MiniLM drift check in --quick: no model is loaded
QUICK_SETTINGS = f"""generate.n=4 retrieve.per_keyword=2 select.m=2 verify.k={PAPER_K}
    verify.adaptive=true score.samples={PAPER_L} score.adaptive=true
    quality.min_parent_similarity=0""".split()


def install_fakes() -> None:
    """The `fake:` model kind and its stand-ins (tests/reliability/world.py), for --quick."""
    sys.path.insert(0, str(ROOT))
    from tests.reliability import world

    world.install()


def quick_run(work: Path) -> tuple[Path, Path]:
    """keywords ... select on the scripted fakes (`fake:` models, see `install_fakes`) through
    `synthrl run`'s own code, with verify.adaptive and score.adaptive on: (run, call cache)."""
    sys.path.insert(0, str(ROOT))
    from rich.console import Console
    from tests.reliability import world

    from synthrl.run import RunOptions, run_task

    task, run, cache = world.write_task(work / "task"), work / "run", work / "calls.sqlite"
    models = {"instructor": "fake:instructor", "base": "fake:base"}
    options = RunOptions(task, run, "cpu", **models, overrides=QUICK_SETTINGS, stop="select")
    options.cache_path, options.yes = cache, True
    run_task(options, Console(file=io.StringIO()), show_progress=False)
    return run, cache


@contextmanager
def _errors() -> Iterator[None]:
    """synthrl's user-facing errors as a message, not a traceback."""
    from synthrl.errors import SynthRLError

    try:
        yield
    except SynthRLError as err:
        raise SystemExit(f"error: {err}") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("run", nargs="?", type=Path, help="a run directory that finished select")
    add("--quick", action="store_true", help="a small run on the scripted fakes, measured")
    add("--draw", action="store_true", help="draw the paper's votes (through the call cache)")
    add("--cache", type=Path, help="the call cache the run used (default: synthrl's)")
    add("--allow-misses", action="store_true", help="draw though the run's calls are not cached")
    add("--price-in", type=float, default=PRICE_IN, help="USD per 1M input tokens")
    add("--price-out", type=float, default=PRICE_OUT, help="USD per 1M output tokens")
    add("--votes-out", type=Path, help="with --draw: write the k=16 votes for bench/verify.py")
    args = parser.parse_args()
    if args.votes_out is not None and not (args.draw or args.quick):
        parser.error("--votes-out needs --draw (or --quick): only drawn votes can be written")
    from synthrl.paths import default_cache_path

    with tempfile.TemporaryDirectory() as tmp, _errors():
        if args.quick:
            install_fakes()
            run, cache = quick_run(Path(tmp))
            print(f"quick: a run on the scripted fakes ({', '.join(QUICK_SETTINGS)}), --draw")
            m = measure(run, Draw(cache, progress=False))
        elif args.run is None:
            parser.error("give a run directory, or --quick")
        else:
            cache = args.cache or default_cache_path()
            m = measure(args.run, Draw(cache, args.allow_misses) if args.draw else None)
        instructor, base = report(m, args.price_in, args.price_out)
        if args.votes_out is not None:
            sys.path.insert(0, str(ROOT / "bench"))
            from verify import write_votes  # the votes file's reader and writer

            source = f"bench/cost.py --draw on {args.run or '--quick'}"
            found = (PAPER_K, m.min_agreement, m.task.answer.kind)
            write_votes(args.votes_out, *found, m.votes, source)
    if m.agreement is None:
        print("label agreement: n/a (estimated counts; --draw draws the paper's votes)")
    else:
        agree, kept = m.agreement
        print(f"label agreement: {agree} of the run's {kept} kept labels the same at k={PAPER_K}")
    print("\n" + bench_line(instructor, base, m.agreement))


if __name__ == "__main__":
    main()
