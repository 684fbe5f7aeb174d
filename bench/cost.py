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
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT / "bench"))
from costmodel import (  # noqa: E402  (the cost model, beside this bench)
    PAPER_K,
    PAPER_L,
    PRICE_IN,
    PRICE_OUT,
    Cost,
    Measurement,
    Row,
    agreement,
    bench_line,
    ledger_cost,
    ratio,
    score_rounds,
    totals,
    verify_rounds,
    vote_cost,
)

VERIFY_REASONS = ("low_agreement", "tied_vote", "no_parseable_vote")
# (verify.k, verify.delta) replayed on the drawn votes (k < 16: their first k)
WHAT_IF = ((16, 0.0), (16, 0.02), (16, 0.05), (16, 0.1), (16, 0.2), (8, 0.0), (4, 0.0))
SHARED = {"keywords": "instructor", "pattern": "instructor", "generate": "instructor"}


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
        if task.answer.kind == "choice" and config.verify.permute_options:
            raise SystemExit(
                "--draw does not model verify.permute_options (one request per vote on rotated "
                "options) yet: measure this run without --draw"
            )
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
    if votes is not None:
        what_if(config, sets, votes, labels, m)
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


def label_judge(task: Any, sets: dict[str, list[dict[str, Any]]]) -> Callable[..., bool]:
    """`same(id, a, b)`: two labels of sample `id` are equivalent, by the one answer checker."""
    from synthrl.answers import equivalent

    inputs = {s["id"]: s["input"] for samples in sets.values() for s in samples}
    kind = task.answer.kind

    def same(sid: str, a: str, b: str) -> bool:
        return a == b or equivalent(a, b, kind, **task.checker_options(inputs[sid]))

    return same


def record_agreement(
    task: Any, sets: dict[str, list[dict[str, Any]]], paper: dict[str, str | None], m: Measurement
) -> None:
    """The run's kept labels against the paper's, judged by the one answer checker."""
    ours = {s["id"]: s["label"] for samples in sets.values() for s in samples}
    m.agreement = agreement(ours, paper, label_judge(task, sets))
    kept = {i for i, label in paper.items() if label is not None}
    m.labels = {"verified": len(ours), "kept by the run": m.agreement[1]}
    m.labels["kept by the paper"] = len(kept)
    m.labels["dropped by the run, kept by the paper"] = sum(ours[i] is None for i in kept)


def what_if(
    config: Any,
    sets: dict[str, list[dict[str, Any]]],
    votes: dict[str, Any],
    paper: dict[str, str | None],
    m: Measurement,
) -> None:
    """synthrl's adaptive voting at each (k, delta) of `WHAT_IF`, replayed on the drawn votes
    (the first k), every other instructor stage as the run spent it: each setting's instructor
    cost and label agreement (against the paper's k = 16 labels) go to `m.what_if`."""
    from synthrl.answers import vote_answers
    from synthrl.synthesis.votes import votes_drawn

    answers = {r["id"]: r["votes"] for r in m.votes}
    kind, need, same = m.task.answer.kind, config.verify.min_agreement, label_judge(m.task, sets)
    rest = [r.ours for r in m.rows if r.role == "instructor" and not r.stage.endswith(": votes")]
    for k, delta in WHAT_IF:
        cost, labels = sum(rest, Cost()), {}
        for s in (s for samples in sets.values() for s in samples):
            opts, found, result = (
                m.task.checker_options(s["input"]),
                answers[s["id"]],
                votes[s["id"]],
            )
            drawn = votes_drawn(found[:k], kind, k, need, True, delta, **opts)
            rounds = verify_rounds(drawn, k, need, True, delta)
            tokens = [x.completion_tokens for x in result.samples]
            cost += vote_cost(tokens, result.prompt_tokens, drawn, rounds)[1]
            vote = vote_answers(found[:drawn], kind, need, **opts)
            labels[s["id"]] = vote.answer if vote.accepted else None
        name = f"k={k} adaptive" + (f", delta {delta:g}" if delta else " (exact)")
        lost = sum(labels.get(i) is None for i, label in paper.items() if label is not None)
        m.what_if.append((name, cost, agreement(labels, paper, same), lost))


def paper_selection(config: Any, rows: list[dict[str, Any]]) -> set[str]:
    """The ids SelectTop picks from the paper's L = 64 scores (the run's M and strategy)."""
    from synthrl.scoring import select_top

    table = [(r["id"], r["correct"], r["attempts"]) for r in rows]
    ranked = select_top(table, config.select.m, config.select.strategy, seed=config.llm.seed)
    return {r.id for r in ranked if r.selected}


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
    if m.what_if:
        paper = totals(m, "instructor")[0].usd(price_in, price_out)
        print(
            "\n| votes replayed, other stages as run | instructor USD | instructor_ratio "
            "| label agreement (its kept) | paper's kept: same label | paper's kept: dropped |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        paper_kept = m.labels.get("kept by the paper", 0)
        for name, cost, (agree, kept), lost in m.what_if:
            usd = cost.usd(price_in, price_out)
            share = f"{agree / kept:.3f} ({agree} / {kept})" if kept else "n/a"
            recall = f"{agree / paper_kept:.3f}" if paper_kept else "n/a"
            print(
                f"| {name} | ${usd / n:.6f} | {ratio(paper, usd):.2f} | {share} | {recall} "
                f"| {lost} |"
            )
    if m.labels:
        print("\nlabels: " + ", ".join(f"{k} {v}" for k, v in m.labels.items()))
    for note in m.notes:
        print(f"note: {note}")
    return result["instructor"], result["base"]


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
            sys.path.append(str(ROOT / "bench"))
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
