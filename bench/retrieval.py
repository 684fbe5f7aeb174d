"""Passage retrieval: synthrl's Library against rank_bm25 (the paper code's choice) and plain
bm25s, on the embedded Wikipedia intros and on a synthetic library of a million passages.

    nice -n 19 .venv/bin/python bench/retrieval.py --quick   # ~15 s; synthetic library 20,000
    .venv/bin/python bench/retrieval.py                      # the full measurement, below
    .venv/bin/python bench/retrieval.py --passages 50000     # full, with a smaller library

Systems, each run in a fresh interpreter (so peak memory is per system):
- `synthrl` = `open_library` (streamed, chunked to 200 words, persistent index, texts on disk);
- `rank_bm25` = `rank_bm25.BM25Okapi` over every document as `f"{title}\\n{text}"`, tokenised by
  lowercase whitespace split (`.lower().split()`, as rank_bm25's README and the paper's code),
  top 5 by a full sort of all scores (what its `get_top_n` does); embedded library only;
- `plain bm25s` = every document one string in a list, `bm25s.tokenize` + `BM25.index` in
  memory, nothing saved.

Libraries: the embedded JSON (10,033 intros); unless --quick, the same intros written 10 times
over as one JSONL file (100,330 documents); and a synthetic JSONL library of --passages passages
(default 1,000,000; 20,000 with --quick), seeded: each passage is random sentences of the intros
(uniform draw) joined up to a drawn length of 50-200 words (cut at 200, so one passage = one
chunk), titled with the first sentence's article. On it synthrl builds once (no rebuild) and
plain bm25s runs unless its estimated peak (its bytes per word on the embedded library times the
library's words) exceeds 12 GiB or 80% of the memory available.

Queries: article titles drawn at random (seed 0), 500 (100 with --quick), top 5, one at a time,
texts included; `title@1` is the share whose top hit carries the query's title. `reopen` loads the
saved index; `rebuild` indexes again from scratch. `peak RSS MB` is above the interpreter after
imports; `process GiB` is the whole process's ru_maxrss. Prints a markdown table, the index-reuse
line, and `BENCH retrieval vs_rank_bm25=X build_1m_s=Y peak_gib=Z target=... PASS|MISS` where
vs_rank_bm25 = rank_bm25's time per query / synthrl's (embedded library) and build_1m_s /
peak_gib are synthrl's build seconds and process peak on the synthetic library (the line says
`passages=N` when that is not 1,000,000).

Full measurement, with the machine's cores free (run it alone; it needs rank-bm25, which
`pip install -e '.[dev]'` or `'.[bench]'` installs):

    .venv/bin/python bench/retrieval.py

Estimate from 50k- and 200k-passage runs on the shared 2-core machine (synthrl's build 8.7 s /
0.23 GiB and 37 s / 0.71 GiB; plain bm25s 7.0 s / 0.38 GiB and 34 s / 1.33 GiB, 32 queries/s
at 200k): ~10 min in all; synthrl's 1M build ~3-3.5 min at ~3.5 GiB, plain bm25s's ~3 min at
~6.5 GiB plus ~1.5 min for its 500 queries; ~3 GB of temporary disk (the JSONL and the index).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import re
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

REUSE_TARGET = 5.0
VS_RANK_TARGET = 20.0
BUILD_TARGET_S = 300.0
PEAK_TARGET_GIB = 8.0
PLAIN_LIMIT_GIB = 12.0
K = 5
MIN_WORDS, MAX_WORDS = 50, 200


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _records(library: str) -> list[dict[str, str]]:
    """Rows of "embedded", "x10" (the intros ten times over) or a JSONL file's path."""
    if library not in ("embedded", "x10"):
        with open(library, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh]
    from synthrl.models import data_path

    data = json.loads(data_path("wiki").read_text(encoding="utf-8"))
    rows = [{"title": r["title"], "text": r["extract"]} for r in data.values()]
    return rows if library == "embedded" else rows * 10


def _titles(count: int) -> list[str]:
    rows = _records("embedded")
    return [r["title"] for r in random.Random(0).sample(rows, count)]


def _top1(found: list[dict[str, str]], title: str) -> bool:
    return bool(found) and found[0]["title"] == title


def run_synthrl(source: str, home: str, titles: list[str], rebuild: bool) -> dict[str, Any]:
    """Build, reopen, query (and with `rebuild`, rebuild) synthrl's Library, in a fresh process."""
    os.environ["SYNTHRL_HOME"] = home
    from synthrl.retrieval import open_library
    from synthrl.task import LibrarySpec

    spec = LibrarySpec(source=source) if source != "embedded" else LibrarySpec()
    base = _rss_mb()
    start = time.perf_counter()
    built = open_library(spec, 200, progress=False)
    build_s = time.perf_counter() - start
    peak, process = _rss_mb() - base, _rss_mb() / 1024
    assert built.built
    start = time.perf_counter()
    library = open_library(spec, 200, progress=False)
    reopen_s = time.perf_counter() - start
    assert not library.built
    start = time.perf_counter()
    hits = [library.search(title, K) for title in titles]
    query_s = time.perf_counter() - start
    top = sum(bool(h) and h[0][0].title == t for h, t in zip(hits, titles, strict=True))
    rebuild_s = None
    if rebuild:
        start = time.perf_counter()
        open_library(spec, 200, progress=False, rebuild=True)
        rebuild_s = time.perf_counter() - start
    size = sum(f.stat().st_size for f in library.folder.iterdir()) / 1e6
    return {
        "build_s": build_s,
        "rebuild_s": rebuild_s,
        "reopen_s": reopen_s,
        "qps": len(titles) / query_s,
        "title@1": top / len(titles),
        "rss_mb": peak,
        "process_gib": process,
        "disk_mb": size,
        "passages": len(library),
    }


def run_plain(library: str, titles: list[str]) -> dict[str, Any]:
    """The obvious alternative: all texts in a list, bm25s in memory (in a fresh process)."""
    import bm25s

    base = _rss_mb()
    start = time.perf_counter()
    rows = _records(library)
    texts = [f"{r['title']}\n{r['text']}" for r in rows]
    tokens = bm25s.tokenize(texts, stopwords="en", show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    build_s = time.perf_counter() - start
    peak, process = _rss_mb() - base, _rss_mb() / 1024
    start = time.perf_counter()
    top = 0
    for title in titles:
        query = bm25s.tokenize(title, stopwords="en", show_progress=False)
        docs, _scores = retriever.retrieve(query, k=K, show_progress=False)
        top += _top1([rows[int(i)] for i in docs[0]], title)
    query_s = time.perf_counter() - start
    return {
        "build_s": build_s,
        "qps": len(titles) / query_s,
        "title@1": top / len(titles),
        "rss_mb": peak,
        "process_gib": process,
        "passages": len(texts),
        "words": sum(len(t.split()) for t in texts),
    }


def run_rank_bm25(library: str, titles: list[str]) -> dict[str, Any]:
    """rank_bm25's BM25Okapi as the paper's code uses it (in a fresh process): lowercase
    whitespace tokens, every document scored per query, top 5 by a full sort (`get_top_n`)."""
    import numpy as np
    from rank_bm25 import BM25Okapi

    base = _rss_mb()
    start = time.perf_counter()
    rows = _records(library)
    bm25 = BM25Okapi([f"{r['title']}\n{r['text']}".lower().split() for r in rows])
    build_s = time.perf_counter() - start
    peak, process = _rss_mb() - base, _rss_mb() / 1024
    start = time.perf_counter()
    top = 0
    for title in titles:
        scores = bm25.get_scores(title.lower().split())
        best = np.argsort(scores)[::-1][:K]
        top += _top1([rows[int(i)] for i in best], title)
    query_s = time.perf_counter() - start
    return {
        "build_s": build_s,
        "qps": len(titles) / query_s,
        "title@1": top / len(titles),
        "rss_mb": peak,
        "process_gib": process,
        "passages": len(rows),
    }


def fresh(fn: Any, *args: Any) -> dict[str, Any]:
    """Run fn(*args) in a new interpreter and return its result."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def write_synthetic(path: Path, passages: int, seed: int = 0) -> int:
    """Write `passages` seeded passages of random intro sentences as JSONL; return its words."""
    sentences: list[str] = []
    owners: list[str] = []
    for row in _records("embedded"):
        for sentence in re.split(r"(?<=[.!?])\s+", row["text"]):
            if sentence.strip():
                sentences.append(sentence.strip())
                owners.append(row["title"])
    sizes = [len(s.split()) for s in sentences]
    rng = random.Random(seed)
    total = 0
    with path.open("w", encoding="utf-8") as fh:
        for _ in range(passages):
            target, words, picks = rng.randint(MIN_WORDS, MAX_WORDS), 0, []
            while words < target:
                picks.append(rng.randrange(len(sentences)))
                words += sizes[picks[-1]]
            text = " ".join(sentences[i] for i in picks)
            if words > MAX_WORDS:
                text = " ".join(text.split()[:MAX_WORDS])
            total += min(words, MAX_WORDS)
            row = {"title": owners[picks[0]], "text": text}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return total


def _available_gib() -> float:
    with open("/proc/meminfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 2**20
    return float("inf")


def measure_synthetic(
    work: Path, passages: int, titles: list[str], plain_bytes_per_word: float
) -> dict[str, Any]:
    """synthrl (and plain bm25s if it fits) on a synthetic library of `passages` passages."""
    folder = work / "synthetic"
    folder.mkdir()
    path = folder / f"synthetic_{passages}.jsonl"
    start = time.perf_counter()
    words = write_synthetic(path, passages)
    print(
        f"synthetic library: {passages:,} passages, {words:,} words, "
        f"{path.stat().st_size / 1e6:,.0f} MB, written in {time.perf_counter() - start:.1f} s",
        flush=True,
    )
    ours = fresh(run_synthrl, str(path), str(work / "home-synthetic"), titles, False)
    estimate = plain_bytes_per_word * words / 2**30
    limit = min(PLAIN_LIMIT_GIB, 0.8 * _available_gib())
    plain: dict[str, Any] | str
    if estimate > limit:
        plain = f"skipped: estimated {estimate:.1f} GiB > {limit:.1f} GiB"
    else:
        plain = fresh(run_plain, str(path), titles)
    return {"words": words, "ours": ours, "plain": plain}


def measure(library: str, work: Path, titles: list[str]) -> dict[str, Any]:
    source = "embedded"
    if library != "embedded":
        path = work / "wiki_x10.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for row in _records(library):
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        source = str(path)
    home = str(work / f"home-{library}")
    results = {"ours": fresh(run_synthrl, source, home, titles, True)}
    results["plain"] = fresh(run_plain, source if library != "embedded" else library, titles)
    if library == "embedded":
        results["rank_bm25"] = fresh(run_rank_bm25, library, titles)
    return results


def _row(name: str, system: str, r: dict[str, Any]) -> str:
    reopen = f"{r['reopen_s']:.3f}" if "reopen_s" in r else "- (rebuild)"
    reuse = f"{r['rebuild_s'] / r['reopen_s']:,.0f}x" if r.get("rebuild_s") else "-"
    disk = f"{r['disk_mb']:,.1f}" if "disk_mb" in r else "-"
    return (
        f"| {name} | {system} | {r['passages']:,} | {r['build_s']:.2f} | {reopen} | {reuse} "
        f"| {r['qps']:,.0f} | {r['title@1']:.0%} | {r['rss_mb']:,.0f} | {r['process_gib']:.2f} "
        f"| {disk} |"
    )


def table(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| library | system | passages | build s | reopen s | rebuild/reopen | queries/s "
        "| title@1 | peak RSS MB | process GiB | index on disk MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    names = {"embedded": "embedded (10,033 intros)", "x10": "JSONL x10 (100,330 docs)"}
    systems = {
        "ours": "synthrl Library",
        "rank_bm25": "rank_bm25 BM25Okapi",
        "plain": "plain bm25s",
    }
    for library, runs in results.items():
        name = names.get(library, f"synthetic ({library} passages)")
        for key, system in systems.items():
            run = runs.get(key)
            if isinstance(run, dict):
                lines.append(_row(name, system, run))
            elif isinstance(run, str):
                lines.append(f"| {name} | {system} | {run} |" + " |" * 8)
    return lines


def bench_line(results: dict[str, dict[str, Any]], passages: int) -> str:
    embedded = results["embedded"]
    vs_rank = embedded["ours"]["qps"] / embedded["rank_bm25"]["qps"]
    synthetic = results[f"{passages:,}"]["ours"]
    build_s, peak = synthetic["build_s"], synthetic["process_gib"]
    ok = vs_rank >= VS_RANK_TARGET and build_s < BUILD_TARGET_S and peak < PEAK_TARGET_GIB
    size = "" if passages == 1_000_000 else f" passages={passages}"
    return (
        f"BENCH retrieval vs_rank_bm25={vs_rank:.1f} build_1m_s={build_s:.1f} "
        f"peak_gib={peak:.2f}{size} target=vs_rank_bm25>={VS_RANK_TARGET:g},"
        f"build_1m_s<{BUILD_TARGET_S:g},peak_gib<{PEAK_TARGET_GIB:g} {'PASS' if ok else 'MISS'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="embedded + 20,000-passage synthetic, 100 queries"
    )
    parser.add_argument(
        "--passages", type=int, help="synthetic library size (default 1,000,000; 20,000 quick)"
    )
    args = parser.parse_args()
    if importlib.util.find_spec("rank_bm25") is None:
        raise SystemExit("bench/retrieval.py needs rank-bm25: pip install -e '.[bench]'")
    passages = args.passages or (20_000 if args.quick else 1_000_000)
    titles = _titles(100 if args.quick else 500)
    libraries = ["embedded"] if args.quick else ["embedded", "x10"]
    with tempfile.TemporaryDirectory(prefix="synthrl-bench-") as tmp:
        results = {name: measure(name, Path(tmp), titles) for name in libraries}
        plain = results["embedded"]["plain"]
        per_word = plain["rss_mb"] * 2**20 / plain["words"]
        results[f"{passages:,}"] = measure_synthetic(Path(tmp), passages, titles, per_word)
    print("\n".join(table(results)))
    reuse = min(
        r["ours"]["rebuild_s"] / r["ours"]["reopen_s"]
        for r in results.values()
        if r["ours"]["rebuild_s"]
    )
    verdict = "PASS" if reuse >= REUSE_TARGET else "MISS"
    print(f"index_reuse_speedup={reuse:.1f} target={REUSE_TARGET:g} {verdict}")
    print(bench_line(results, passages))


if __name__ == "__main__":
    main()
