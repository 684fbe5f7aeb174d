"""Fuzzed data files: evaluation and benchmark files, passage libraries and contamination files
with malformed rows (other JSON types, broken JSON, byte noise, deep nesting, odd field types).
Each either loads or fails with a SynthRLError naming the file and the line (or row); never
another exception."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthrl.errors import SynthRLError
from synthrl.evaluate.loaders import load_items
from synthrl.retrieval.sources import resolve_source
from synthrl.synthesis.quality import read_eval_texts
from synthrl.task import LibrarySpec

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIELDS = ("question", "answer", "options", "context", "id", "text", "title")

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
rows = st.dictionaries(st.sampled_from(FIELDS), values, max_size=6)
good = st.fixed_dictionaries(
    {
        "question": st.text(min_size=1, max_size=20),
        "answer": st.text(max_size=5),
        "text": st.text(max_size=20),
    }
)
line = st.one_of(
    good.map(json.dumps).map(str.encode),
    rows.map(json.dumps).map(str.encode),
    values.map(json.dumps).map(str.encode),
    st.text(max_size=20).map(str.encode),
    st.binary(max_size=20),
    st.just(b""),
    st.just(b"[" * 3000 + b"]" * 3000),  # deeper than the JSON decoder's recursion limit
)
LOCATION = re.compile(r":\d+\b|\brows? \d+\b|\bline \d+\b")


@contextmanager
def _written(data: bytes, suffix: str) -> Iterator[Path]:
    """`data` in a file of its own, removed afterwards (hypothesis runs hundreds of examples)."""
    with tempfile.TemporaryDirectory(prefix="fuzz-files-") as folder:
        path = Path(folder) / f"data{suffix}"
        path.write_bytes(data)
        yield path


def _named(err: SynthRLError, path: Path, located: bool = True) -> None:
    message = str(err)
    assert path.name in message, message
    if located and "no rows" not in message and "empty" not in message:
        assert LOCATION.search(message), message


@SETTINGS
@given(lines=st.lists(line, max_size=6), with_context=st.booleans())
def test_evaluation_file_rows(lines: list[bytes], with_context: bool) -> None:
    fields = {"question": "question", "answer": "answer", "options": "options", "id": "id"}
    if with_context:
        fields["context"] = "context"
    with _written(b"\n".join(lines), ".jsonl") as path:
        try:
            items = load_items(str(path), fields)
        except SynthRLError as err:
            _named(err, path)
            return
    assert items and all(isinstance(item.input, str) for item in items)


@SETTINGS
@given(lines=st.lists(line, max_size=6))
def test_library_jsonl_rows(lines: list[bytes]) -> None:
    with _written(b"\n".join(lines), ".jsonl") as path:
        source = resolve_source(LibrarySpec(source=str(path)))
        try:
            documents = list(source.documents())
        except SynthRLError as err:
            _named(err, path)
            return
    assert all(isinstance(d.text, str) for d in documents)


@SETTINGS
@given(data=values | st.lists(rows, max_size=4) | st.dictionaries(st.text(max_size=5), rows))
def test_library_json_file(data: object) -> None:
    with _written(json.dumps(data).encode(), ".json") as path:
        source = resolve_source(LibrarySpec(source=str(path)))
        try:
            list(source.documents())
        except SynthRLError as err:
            _named(err, path, located=isinstance(data, list) and bool(data))


@SETTINGS
@given(lines=st.lists(line, max_size=6))
def test_contamination_file_rows(lines: list[bytes]) -> None:
    with _written(b"\n".join(lines), ".jsonl") as path:
        try:
            texts = read_eval_texts(path)
        except SynthRLError as err:
            _named(err, path, located=False)
            return
    assert all(isinstance(t, str) for t in texts)


@pytest.mark.parametrize("suffix", [".parquet", ".json", ".jsonl"])
@given(noise=st.binary(min_size=1, max_size=200))
@settings(max_examples=25, deadline=None)
def test_byte_noise_files(suffix: str, noise: bytes) -> None:
    """Random bytes under every data file name: a clear error naming the file (or, rarely,
    something readable)."""
    with _written(noise, suffix) as path:
        loaders = [
            lambda: load_items(str(path), {"question": "q", "answer": "a"}),
            lambda: list(resolve_source(LibrarySpec(source=str(path))).documents()),
            lambda: read_eval_texts(path),
        ]
        for load in loaders:
            try:
                load()
            except SynthRLError as err:
                _named(err, path, located=False)
