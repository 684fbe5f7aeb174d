"""Passage retrieval: synthrl's Library against plain bm25s on the embedded Wikipedia intros.

    .venv/bin/python bench/retrieval.py [--quick]

`synthrl` = `open_library` (streamed, chunked to 200 words, persistent index, texts on disk);
`plain bm25s` = the obvious alternative: every document as one string in a list,
`bm25s.tokenize` + `BM25.index` in memory, nothing saved. Each measurement runs in a fresh
interpreter, so peak memory (RSS above the interpreter after imports) is per system. Libraries:
the embedded JSON (10,033 intros) and, unless --quick, the same intros written 10 times over as
one JSONL file (100,330 documents). Queries: article titles drawn at random (seed 0); `title@1`
is the share whose own article is the top hit. `reopen` loads the saved index (content check
included); `rebuild` indexes again from scratch. Prints a markdown table and
`BENCH retrieval index_reuse_speedup=... target=5 PASS|MISS` (rebuild / reopen time on the
embedded library; the smaller ratio of the two libraries when both run).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

TARGET = 5.0
K = 5


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _records(library: str) -> list[dict[str, str]]:
    from synthrl.models import data_path

    data = json.loads(data_path("wiki").read_text(encoding="utf-8"))
    rows = [{"title": r["title"], "text": r["extract"]} for r in data.values()]
    if library == "embedded":
        return rows
    return rows * 10


def _titles(count: int) -> list[str]:
    rows = _records("embedded")
    return [r["title"] for r in random.Random(0).sample(rows, count)]


def run_synthrl(library: str, source: str, home: str, titles: list[str]) -> dict[str, Any]:
    """Build, reopen, rebuild and query synthrl's Library (in a fresh process)."""
    import os

    os.environ["SYNTHRL_HOME"] = home
    from synthrl.retrieval import open_library
    from synthrl.task import LibrarySpec

    spec = LibrarySpec(source=source) if source != "embedded" else LibrarySpec()
    base = _rss_mb()
    start = time.perf_counter()
    built = open_library(spec, 200, progress=False)
    build_s = time.perf_counter() - start
    peak = _rss_mb() - base
    assert built.built
    start = time.perf_counter()
    library = open_library(spec, 200, progress=False)
    reopen_s = time.perf_counter() - start
    assert not library.built
    start = time.perf_counter()
    hits = [library.search(title, K) for title in titles]
    query_s = time.perf_counter() - start
    top = sum(bool(h) and h[0][0].title == t for h, t in zip(hits, titles, strict=True))
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
    peak = _rss_mb() - base
    start = time.perf_counter()
    top = 0
    for title in titles:
        query = bm25s.tokenize(title, stopwords="en", show_progress=False)
        docs, _scores = retriever.retrieve(query, k=K, show_progress=False)
        found = [rows[int(i)] for i in docs[0]]
        top += found[0]["title"] == title
    query_s = time.perf_counter() - start
    return {
        "build_s": build_s,
        "qps": len(titles) / query_s,
        "title@1": top / len(titles),
        "rss_mb": peak,
        "passages": len(texts),
    }


def fresh(fn: Any, *args: Any) -> dict[str, Any]:
    """Run fn(*args) in a new interpreter and return its result."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def measure(library: str, work: Path, titles: list[str]) -> tuple[dict, dict]:
    source = "embedded"
    if library != "embedded":
        path = work / "wiki_x10.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for row in _records(library):
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        source = str(path)
    ours = fresh(run_synthrl, library, source, str(work / f"home-{library}"), titles)
    plain = fresh(run_plain, library, titles)
    return ours, plain


def table(results: dict[str, tuple[dict, dict]]) -> list[str]:
    lines = [
        "| library | system | passages | build s | reopen s | rebuild/reopen | queries/s "
        "| title@1 | peak RSS MB | index on disk MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    names = {"embedded": "embedded (10,033 intros)", "x10": "JSONL x10 (100,330 docs)"}
    for library, (ours, plain) in results.items():
        speedup = ours["rebuild_s"] / ours["reopen_s"]
        lines.append(
            f"| {names[library]} | synthrl Library | {ours['passages']:,} | {ours['build_s']:.2f} "
            f"| {ours['reopen_s']:.3f} | {speedup:,.0f}x | {ours['qps']:,.0f} "
            f"| {ours['title@1']:.0%} | {ours['rss_mb']:,.0f} | {ours['disk_mb']:.1f} |"
        )
        lines.append(
            f"| {names[library]} | plain bm25s | {plain['passages']:,} | {plain['build_s']:.2f} "
            f"| - (rebuild) | - | {plain['qps']:,.0f} | {plain['title@1']:.0%} "
            f"| {plain['rss_mb']:,.0f} | - |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="embedded library only, 100 queries")
    args = parser.parse_args()
    titles = _titles(100 if args.quick else 500)
    libraries = ["embedded"] if args.quick else ["embedded", "x10"]
    with tempfile.TemporaryDirectory(prefix="synthrl-bench-") as tmp:
        results = {name: measure(name, Path(tmp), titles) for name in libraries}
    print("\n".join(table(results)))
    speedup = min(ours["rebuild_s"] / ours["reopen_s"] for ours, _ in results.values())
    verdict = "PASS" if speedup >= TARGET else "MISS"
    print(f"BENCH retrieval index_reuse_speedup={speedup:.1f} target={TARGET:g} {verdict}")


if __name__ == "__main__":
    main()
