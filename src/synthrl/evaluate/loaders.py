"""Evaluation sets: the built-in benchmarks of `../shared/benchmarks/` (GSM8K, MATH-500, LogiQA,
MedQA) and any JSONL / Parquet file or Hugging Face dataset (`hf:NAME[:CONFIG][@SPLIT]`) with a
field mapping. Each built-in benchmark is posed with the prompt of a task file shipped in the
package (`synthrl.shipped`).

Each item is posed to the model as `input` (question, plus context and lettered options when the
benchmark has them) and judged against `answer` by the answer checker.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthrl.artifacts import read_jsonl
from synthrl.errors import SynthRLError
from synthrl.hfdata import hf_rows, is_hf

if TYPE_CHECKING:
    from synthrl.task import Task

REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class EvalItem:
    id: str
    input: str
    answer: str
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Benchmark:
    """A built-in benchmark: its file under the benchmarks folder and how to read a row."""

    name: str
    file: str
    fields: dict[str, str]
    task: str  # the example task file whose prompt format it is evaluated with


BUILTIN: dict[str, Benchmark] = {
    b.name: b
    for b in (
        Benchmark(
            "gsm8k", "gsm8k/test.jsonl", {"question": "question", "answer": "answer"}, "gsm8k"
        ),
        Benchmark(
            "gsm8k-train",
            "gsm8k/train.jsonl",
            {"question": "question", "answer": "answer"},
            "gsm8k",
        ),
        Benchmark(
            "math500", "math500/test.jsonl", {"question": "problem", "answer": "answer"}, "math"
        ),
        Benchmark(
            "logiqa",
            "logiqa/test.jsonl",
            {
                "context": "context",
                "question": "question",
                "options": "options",
                "answer": "answer",
            },
            "logiqa",
        ),
        Benchmark(
            "medqa",
            "medqa/test.jsonl",
            {"question": "question", "options": "options", "answer": "answer_idx"},
            "medqa",
        ),
    )
}


def benchmarks_dir() -> Path:
    """`$SYNTHRL_BENCHMARKS`, else `../shared/benchmarks` beside the working directory or repo."""
    configured = os.environ.get("SYNTHRL_BENCHMARKS")
    candidates = [Path(configured)] if configured else []
    candidates += [
        Path.cwd().parent / "shared" / "benchmarks",
        REPO.parent / "shared" / "benchmarks",
    ]
    for path in candidates:
        if path.is_dir():
            return path
    raise SynthRLError(
        "built-in benchmark data not found (looked for ../shared/benchmarks); set "
        "SYNTHRL_BENCHMARKS or give a file with --data and a field mapping."
    )


def format_input(question: str, context: str | None, options: dict[str, str]) -> str:
    """The text a model sees: 'Context: ...', 'Question: ...', then 'A. ...' option lines."""
    if not context and not options:
        return question.strip()
    parts = [f"Context: {context.strip()}"] if context else []
    parts.append(f"Question: {question.strip()}")
    parts += [f"{letter}. {text}" for letter, text in options.items()]
    return "\n".join(parts)


def _rows(source: str) -> Iterator[dict[str, Any]]:
    if is_hf(source):
        yield from hf_rows(source, default_split="test")
        return
    path = Path(source)
    if not path.is_file():
        raise SynthRLError(f"data file {path}: no such file")
    if path.suffix.lower() == ".parquet":
        yield from read_parquet_rows(path)
        return
    yield from read_jsonl(path)


def read_parquet_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a Parquet file; SynthRLError naming the file when it cannot be read."""
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).to_pylist()
    except Exception as err:  # pyarrow raises several types for a bad file
        raise SynthRLError(f"{path}: not a readable Parquet file ({err})") from None


def _options(raw: Any, source: str, index: int) -> dict[str, str]:
    """Options as letter -> text, from a mapping, a list (lettered A, B, ...) or either one
    written as a JSON string (as CSV-born Parquet files often hold them)."""
    if isinstance(raw, str) and raw.strip():
        try:
            raw = json.loads(raw)
        except ValueError:
            raise SynthRLError(
                f"{source} row {index + 1}: options {raw[:60]!r} are neither a list, a mapping "
                "nor JSON for one"
            ) from None
    if not raw:
        return {}
    if isinstance(raw, list):
        return {chr(65 + i): str(text) for i, text in enumerate(raw)}
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    raise SynthRLError(f"{source} row {index + 1}: options must be a list or a mapping")


def load_items(source: str, fields: dict[str, str], limit: int | None = None) -> list[EvalItem]:
    """Items from a file or `hf:NAME[:CONFIG][@SPLIT]` (split test by default); `fields` maps
    question/answer (and optionally context, options, id) to the source's field names."""
    if "question" not in fields or "answer" not in fields:
        raise SynthRLError("the field mapping needs at least `question` and `answer`")
    items = []
    for index, row in enumerate(_rows(source)):
        if limit is not None and len(items) >= limit:
            break
        missing = [fields[k] for k in ("question", "answer") if fields[k] not in row]
        if missing:
            raise SynthRLError(
                f"{source} row {index + 1}: no field {missing[0]!r} "
                f"(fields: {', '.join(sorted(row))})"
            )
        options = _options(row.get(fields.get("options", "options")), source, index)
        context = row.get(fields["context"]) if "context" in fields else None
        context = None if context is None else str(context)
        question = str(row[fields["question"]])
        items.append(
            EvalItem(
                id=str(row.get(fields.get("id", "id"), index)),
                input=format_input(question, context, options),
                answer=str(row[fields["answer"]]),
                options=options,
            )
        )
    if not items:
        raise SynthRLError(f"{source}: no rows")
    return items


def load_benchmark(name: str, limit: int | None = None) -> list[EvalItem]:
    """A built-in benchmark by name."""
    if name not in BUILTIN:
        raise SynthRLError(f"unknown benchmark {name!r}; built in: {', '.join(BUILTIN)}")
    bench = BUILTIN[name]
    return load_items(str(benchmarks_dir() / bench.file), bench.fields, limit)


def split_benchmark(name: str, split: str, limit: int | None = None) -> list[EvalItem]:
    """A built-in benchmark's split: `test` is the benchmark itself, others are `NAME-SPLIT`."""
    key = name if split == "test" else f"{name}-{split}"
    if key not in BUILTIN:
        known = ", ".join(b for b in BUILTIN if b == name or b.startswith(f"{name}-"))
        raise SynthRLError(
            f"no {split!r} split of {name!r} is built in (have: {known or 'none'}); "
            "give your own labelled file with --data"
        )
    return load_benchmark(key, limit)


def task_items(task: Task, limit: int | None = None) -> tuple[list[EvalItem], str] | None:
    """The task's evaluation items and where they came from, or None when it declares no
    evaluation set. A built-in benchmark whose data is missing falls back to `fallback_path`."""
    spec = task.evaluation
    if spec is None:
        return None
    limit = spec.limit or limit
    if spec.benchmark:
        try:
            return load_benchmark(spec.benchmark, limit), f"benchmark {spec.benchmark}"
        except SynthRLError:
            if not spec.fallback_path:
                raise
        items, path = local_items(task, spec.fallback_path, spec.fields, limit)
        return items, f"fallback {path} (benchmark {spec.benchmark} not found)"
    if spec.path:
        return local_items(task, spec.path, spec.fields, limit)
    raise SynthRLError("`evaluation:` needs `benchmark:` or `path:` in the task file")


def local_items(
    task: Task, name: str, fields: dict[str, str], limit: int | None
) -> tuple[list[EvalItem], str]:
    mapping = {"question": "question", "answer": "answer", **fields}
    if is_hf(name):  # hf:NAME[:CONFIG][@SPLIT], as everywhere else
        return load_items(name, mapping, limit), name
    path = Path(name)
    if not path.is_absolute() and task.base_dir is not None:
        path = task.base_dir / path
    return load_items(str(path), mapping, limit), str(path)
