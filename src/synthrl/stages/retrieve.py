"""retrieve: BM25 passages for the keywords from the passage library (paper 4.1, eq. 2).

Writes `retrieve/passages.jsonl` ({id, title, text, keyword, rank, score}), spread across keywords
and de-duplicated. With `retrieve.enabled: false` (the no-retrieval baseline) it writes no passage
and opens no library; `generate` then writes samples without one.
"""

from __future__ import annotations

from typing import Any

from synthrl.artifacts import write_jsonl
from synthrl.config import RunConfig
from synthrl.errors import SynthRLError
from synthrl.pipeline import Stage, StageContext, StageOutput
from synthrl.retrieval import open_library, retrieve_for_keywords
from synthrl.retrieval.sources import resolve_source
from synthrl.task import Task


def run(ctx: StageContext) -> StageOutput:
    cfg = ctx.config.retrieve
    if not cfg.enabled:
        write_jsonl(ctx.out_dir / "passages.jsonl", [])
        return StageOutput({"passages": 0, "keywords_hit": 0}, notes=[DISABLED_NOTE])
    keywords = [row["keyword"] for row in ctx.run.rows("keywords", "keywords.jsonl")]
    library = open_library(ctx.task.library, cfg.chunk_words, base_dir=ctx.task.base_dir)
    found = retrieve_for_keywords(library, keywords, per_keyword=cfg.per_keyword)
    if not found:
        raise SynthRLError(
            f"no passage of the library matched any keyword ({', '.join(keywords[:8])}); "
            "give other `keywords:` or another `library:` in the task file."
        )
    rows = [
        {
            "id": r.passage.id,
            "title": r.passage.title,
            "text": r.passage.text,
            "keyword": r.keyword,
            "rank": r.rank,
            "score": round(float(r.score), 4),
        }
        for r in found
    ]
    write_jsonl(ctx.out_dir / "passages.jsonl", rows)
    hit = {r["keyword"] for r in rows}
    missed = [k for k in keywords if k not in hit]
    notes = [f"no passage for: {', '.join(missed)}"] if missed else []
    return StageOutput({"passages": len(rows), "keywords_hit": len(hit)}, notes=notes)


DISABLED_NOTE = "retrieval disabled (retrieve.enabled=false): no passages, no library read"


def settings(task: Task, config: RunConfig) -> dict[str, Any]:
    if not config.retrieve.enabled:  # the library and its settings do not matter then
        return {"retrieve": {"enabled": False}}
    source = resolve_source(task.library, task.base_dir)
    return {
        "library": task.library.model_dump(),
        "library_content": source.fingerprint(),
        # `enabled` (true) is left out, so that runs from before the switch keep their prints
        "retrieve": config.retrieve.model_dump(exclude={"enabled"}),
    }


STAGE = Stage("retrieve", run, settings, inputs=("keywords",), summary="BM25 passages per keyword")
