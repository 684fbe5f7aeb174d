"""Adaptive verification votes (issue 17) replayed on recorded votes: what drawing all k, the exact
rule (`verify.adaptive`) and the probabilistic rule (`verify.delta`) cost, and how often the
adaptive rules keep the labels of drawing all k.

    .venv/bin/python bench/verify.py --audit FILE [--kind KIND] [--deltas 0.02 0.05 0.1 0.2]
    .venv/bin/python bench/verify.py [--quick] [--k 16] [--min-agreement 0.5]

--audit FILE is the JSON of `synthrl audit TASK --out FILE` (GSM8K questions with their gold
answers), or of `bench/cost.py RUN --draw --votes-out FILE` (the paper's k = 16 votes on a real
run's synthetic samples): every item's k votes in draw order, as answers already extracted
(None: unreadable, cut off or failing its arithmetic), with k, min_agreement and the answer kind
(--kind for older files without it). Without it the votes are simulated, seeded: per
sample the instructor's chance of the right answer is drawn from a pass-rate mix (30% easy,
0.85-1; 30% medium, 0.5-0.85; 20% hard, 0.2-0.5; 20% near hopeless, 0-0.2), and the rest goes
to one common wrong answer (a share drawn in 0-0.8 of it), unreadable votes (a tenth of it) and
scattered answers; 2,000 samples (a few seconds). --quick (`make bench`) always simulates.

Each rule is replayed by `synthrl.synthesis.votes.votes_drawn`, the schedule `verify_samples`
follows (the first round, then one vote at a time until settled), on the same votes:

- full k: the paper's protocol, all k votes drawn;
- exact: stop once the remaining votes cannot change the label or keep/drop;
- delta D: also stop once the posterior predictive chance that they change it is at most D.

Columns: completions drawn; completions_ratio = full k's completions / the rule's;
label_agreement = the share of the samples kept under full k that the rule keeps with the same
label; kept share; changed = the share of all samples whose outcome (label, or dropped) differs
from full k's, which delta bounds under the rule's prior (docs/scoring.md).

The exact rule never draws fewer than ceil(min_agreement x k) votes, so its ratio is at most
1 / min_agreement (k = 3, min_agreement 0.5: 2 votes of 3, at most 1.5); the delta rule can stop
a unanimous sample earlier (`synthrl.answers.vote.earliest_stop`), but at k = 3 every delta
below 1/3 is the exact rule (no state of 1 or 2 votes that the exact rule leaves open has a
change probability below 1/3). Ends with `BENCH verify completions_ratio=X
label_agreement=Y k=K target=... PASS|MISS` for the recommended rule: the delta with the highest
ratio among those with label_agreement >= 0.98 when it beats the exact rule, else the exact rule
(picked after seeing these votes: what a delta can reach at most, not a setting to ship).
Target, the issue's instructor cost: completions_ratio >= 2 at label_agreement >= 0.98.
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from synthrl.answers import KINDS, Kind

Answers = list[str | None]
TARGET_RATIO, TARGET_AGREEMENT = 2.0, 0.98
MIX = [(0.3, (0.85, 1.0)), (0.3, (0.5, 0.85)), (0.2, (0.2, 0.5)), (0.2, (0.0, 0.2))]


@dataclass
class Result:
    rule: str
    completions: int
    ratio: float
    label_agreement: float
    kept_share: float
    changed: float


def load_audit(path: Path, kind: str | None) -> tuple[list[Answers], int, float, str]:
    """(votes per item, k, min_agreement, kind) from `synthrl audit --out` JSON."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if "rows" not in data:
        raise SystemExit(f"{path} holds no per-item votes: rerun `synthrl audit ... --out FILE`")
    k = int(data["k"])
    votes = [row["votes"] for row in data["rows"]]
    short = sum(len(v) != k for v in votes)
    if short:
        print(f"skipping {short} items with fewer than k={k} recorded votes")
    kind = kind or data.get("kind") or "number"
    return [v for v in votes if len(v) == k], k, float(data["min_agreement"]), kind


def write_votes(
    path: Path, k: int, min_agreement: float, kind: str, rows: list[dict], source: str
) -> None:
    """Votes as `synthrl audit --out` JSON (`load_audit` reads it): k, min_agreement, the answer
    kind and rows of each item's answers in draw order (None: unreadable)."""
    data = {"source": source, "k": k, "min_agreement": min_agreement, "kind": kind, "rows": rows}
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    print(f"wrote the {len(rows)} samples' k={k} votes to {path}")


def simulate(count: int, k: int, seed: int = 0) -> list[Answers]:
    """k votes for each of `count` samples, the right answer "1", drawn from the pass-rate MIX."""
    rng = random.Random(seed)
    samples = []
    for _ in range(count):
        low, high = rng.choices([r for _, r in MIX], [w for w, _ in MIX])[0]
        right = rng.uniform(low, high)
        wrong = (1 - right) * rng.uniform(0, 0.8)
        unread = (1 - right) * 0.1
        votes: Answers = []
        for _ in range(k):
            u = rng.random()
            if u < right:
                votes.append("1")
            elif u < right + wrong:
                votes.append("2")
            elif u < right + wrong + unread:
                votes.append(None)
            else:
                votes.append(str(rng.randint(3, 999)))
        samples.append(votes)
    return samples


def replay(
    samples: list[Answers], k: int, min_agreement: float, kind: Kind, deltas: list[float]
) -> list[Result]:
    """Every rule on the same votes, against full k."""
    from synthrl.answers import equivalent, vote_answers
    from synthrl.synthesis.votes import votes_drawn

    def outcome(votes: Answers) -> str | None:
        vote = vote_answers(votes, kind, min_agreement)
        return vote.answer if vote.accepted else None

    def same(a: str | None, b: str | None) -> bool:
        return a == b or (a is not None and b is not None and equivalent(a, b, kind))

    full = [outcome(v) for v in samples]
    kept = [i for i, label in enumerate(full) if label is not None]
    rules = [("full k (paper)", False, 0.0), ("exact", True, 0.0)]
    rules += [(f"delta {d:g}", True, d) for d in deltas]
    results = []
    for name, adaptive, delta in rules:
        drawn = [votes_drawn(v, kind, k, min_agreement, adaptive, delta) for v in samples]
        stopped = [outcome(v[:d]) for v, d in zip(samples, drawn, strict=True)]
        agree = sum(same(stopped[i], full[i]) for i in kept)
        changed = sum(not same(a, b) for a, b in zip(stopped, full, strict=True))
        results.append(
            Result(
                name,
                sum(drawn),
                len(samples) * k / sum(drawn),
                agree / len(kept) if kept else 1.0,
                sum(s is not None for s in stopped) / len(samples),
                changed / len(samples),
            )
        )
    return results


def recommended(results: list[Result]) -> Result:
    """The exact rule, unless a delta keeps label_agreement >= 0.98 at a higher ratio."""
    exact = next(r for r in results if r.rule == "exact")
    good = [r for r in results if r.rule.startswith("delta") and r.label_agreement >= 0.98]
    best = max(good, key=lambda r: r.ratio, default=exact)
    return best if best.ratio > exact.ratio else exact


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audit", type=Path, help="`synthrl audit --out` JSON (real votes)")
    parser.add_argument("--kind", help="answer kind (default: the audit's, else number)")
    parser.add_argument("--quick", action="store_true", help="simulated votes, even with --audit")
    parser.add_argument("--k", type=int, default=16, help="simulated: votes per sample")
    parser.add_argument("--min-agreement", type=float, default=0.5, help="simulated")
    parser.add_argument("--deltas", type=float, nargs="+", default=[0.02, 0.05, 0.1, 0.2])
    args = parser.parse_args()
    if args.audit is not None and not args.quick:
        samples, k, agreement, kind = load_audit(args.audit, args.kind)
        source = f"real votes from {args.audit}"
    else:
        k, agreement, kind = args.k, args.min_agreement, args.kind or "number"
        samples = simulate(2000, k)
        source = "simulated votes (pass-rate mix, seed 0)"
    if kind not in KINDS:
        raise SystemExit(f"unknown answer kind {kind!r}; use one of: {', '.join(KINDS)}")
    results = replay(samples, k, agreement, cast(Kind, kind), args.deltas)
    print(f"\n{len(samples)} samples, k={k}, min_agreement={agreement}, kind {kind}, {source}\n")
    print("| rule | completions | completions_ratio | label_agreement | kept share | changed |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.rule} | {r.completions} | {r.ratio:.2f} | {r.label_agreement:.3f} "
            f"| {r.kept_share:.3f} | {r.changed:.3f} |"
        )
    best = recommended(results)
    met = best.ratio >= TARGET_RATIO and best.label_agreement >= TARGET_AGREEMENT
    print(f"\nrecommended: {best.rule}")
    print(
        f"\nBENCH verify completions_ratio={best.ratio:.2f} "
        f"label_agreement={best.label_agreement:.3f} k={k} "
        f"target=ratio>={TARGET_RATIO:g},agreement>={TARGET_AGREEMENT:g} "
        f"{'PASS' if met else 'MISS'}"
    )


if __name__ == "__main__":
    main()
