"""Where passages come from: the embedded Wikipedia intros, local JSONL/JSON/Parquet files or
folders of them, or a Hugging Face dataset (`hf:NAME[:CONFIG][@SPLIT]`, streamed, split `train`).

Files are streamed: JSONL line by line, Parquet by row group; only `.json` files (a list of
records, or an object of records like the embedded library) are read whole. A source also gives a
cheap content fingerprint so that a saved index is reused until the library changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthrl.errors import SynthRLError
from synthrl.task import LibrarySpec

SUFFIXES = (".jsonl", ".json", ".parquet")
EMBEDDED_FIELDS = ("extract", "title")  # the embedded Wikipedia JSON's text and title fields
_EDGE = 1 << 20  # bytes hashed at each end of a file for the fingerprint

Advance = Callable[[float], None]  # progress callback, in bytes of input read


@dataclass(frozen=True)
class Document:
    """One record of the library, before chunking; `source` says where it came from."""

    source: str
    title: str | None
    text: str


@dataclass(frozen=True)
class Source:
    """A resolved library: its files (or HF name) and the fields to read."""

    kind: str  # "embedded", "files" or "hf"
    name: str  # what the user wrote, resolved (a path, "embedded" or "hf:NAME")
    text_field: str
    title_field: str | None
    files: tuple[Path, ...] = ()
    root: Path | None = None  # the folder given, or the file's parent

    @property
    def total_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.files)

    def fingerprint(self) -> str:
        """A content key: per file its relative path, size, mtime and a hash of its first and
        last MiB. An edit that keeps size and both ends changes the mtime. HF datasets are keyed
        by name (rebuild with `rebuild=True` when the hub copy changes)."""
        digest = hashlib.sha256(self.kind.encode())
        for path in self.files:
            stat = path.stat()
            rel = path.relative_to(self.root) if self.root else path
            digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
            with path.open("rb") as fh:
                digest.update(fh.read(_EDGE))
                if stat.st_size > _EDGE:
                    fh.seek(max(_EDGE, stat.st_size - _EDGE))
                    digest.update(fh.read(_EDGE))
        if self.kind == "hf":
            digest.update(self.name.encode())
        return digest.hexdigest()[:16]

    def documents(self, advance: Advance | None = None) -> Iterator[Document]:
        """Stream the library's documents; `advance(n)` is told of each n bytes read."""
        step = advance or (lambda _n: None)
        if self.kind == "hf":
            yield from _read_hf(self, step)
            return
        for path in self.files:
            label = "wikipedia" if self.kind == "embedded" else _label(path, self.root)
            reader = {".jsonl": _read_jsonl, ".json": _read_json, ".parquet": _read_parquet}
            yield from reader[path.suffix.lower()](self, path, label, step)


def resolve_source(spec: LibrarySpec, base_dir: Path | None = None) -> Source:
    """Resolve a library spec to a Source; raise SynthRLError if it names nothing usable."""
    raw = spec.source.strip()
    if raw == "embedded":
        from synthrl.models import data_path

        path = data_path("wiki")
        text, title = EMBEDDED_FIELDS
        return Source("embedded", "embedded", text, title, (path,), path.parent)
    if raw.startswith("hf:"):
        from synthrl.hfdata import parse_hf

        parse_hf(raw)  # a malformed name fails here, with the spelling
        return Source("hf", raw, spec.text_field, spec.title_field)
    path = Path(raw).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():
        raise SynthRLError(
            f"library {raw!r}: no such file or folder ({path.resolve()}). Give a .jsonl/.parquet "
            "file, a folder of them, 'hf:NAME[:CONFIG][@SPLIT]' or 'embedded'."
        )
    path = path.resolve()
    if path.is_dir():
        files = tuple(_library_files(path))
        if not files:
            raise SynthRLError(
                f"library folder {path} holds no {'/'.join(SUFFIXES)} files (hidden files and "
                "folders are skipped)."
            )
        return Source("files", str(path), spec.text_field, spec.title_field, files, path)
    if path.suffix.lower() not in SUFFIXES:
        raise SynthRLError(f"library file {path}: expected one of {', '.join(SUFFIXES)}.")
    return Source("files", str(path), spec.text_field, spec.title_field, (path,), path.parent)


def _library_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).parts
        if path.is_file() and path.suffix.lower() in SUFFIXES and not _hidden(rel):
            yield path


def _hidden(parts: tuple[str, ...]) -> bool:
    return any(p.startswith(".") for p in parts)


def _label(path: Path, root: Path | None) -> str:
    return str(path.relative_to(root)) if root else path.name


def _document(source: Source, row: Any, where: str) -> Document:
    """A Document from one record (its text may be empty: it then makes no passage)."""
    if not isinstance(row, dict):
        raise SynthRLError(f"{where}: expected a JSON object per record, got {type(row).__name__}")
    if source.text_field not in row:
        fields = ", ".join(sorted(map(str, row))) or "none"
        raise SynthRLError(
            f"{where}: no field {source.text_field!r} (its fields: {fields}). Set "
            "`library.text_field` (and `title_field`) in the task file to the right names."
        )
    text = row[source.text_field]
    title = row.get(source.title_field) if source.title_field else None
    return Document(where, str(title) if title not in (None, "") else None, str(text or ""))


def _read_jsonl(source: Source, path: Path, label: str, step: Advance) -> Iterator[Document]:
    with path.open("rb") as fh:
        for number, line in enumerate(fh, 1):
            step(len(line))
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
                reason = getattr(err, "msg", None) or str(err)
                raise SynthRLError(f"{path}:{number}: not valid JSON ({reason})") from None
            yield _document(source, row, f"{label}:{number}")


def _read_json(source: Source, path: Path, label: str, step: Advance) -> Iterator[Document]:
    try:
        data = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise SynthRLError(f"{path}: not valid JSON ({err}). Use JSONL for large files.") from None
    if isinstance(data, dict):
        items = [(str(key), row) for key, row in data.items()]
    elif isinstance(data, list):
        items = [(str(i), row) for i, row in enumerate(data, 1)]
    else:
        raise SynthRLError(f"{path}: expected a JSON list or object of records")
    per_item = path.stat().st_size / max(1, len(items))
    for key, row in items:
        step(per_item)
        yield _document(source, row, f"{label}:{key}")


def _read_parquet(source: Source, path: Path, label: str, step: Advance) -> Iterator[Document]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as err:  # pyarrow raises several types for a bad file
        raise SynthRLError(f"{path}: not a readable Parquet file ({err})") from None
    names = parquet.schema_arrow.names
    if source.text_field not in names:
        raise SynthRLError(
            f"{path}: no field {source.text_field!r} (its fields: {', '.join(names)}). Set "
            "`library.text_field` (and `title_field`) in the task file to the right names."
        )
    columns = [source.text_field]
    if source.title_field and source.title_field in names:
        columns.append(source.title_field)
    per_row = path.stat().st_size / max(1, parquet.metadata.num_rows)
    row_number = 0
    for group in range(parquet.num_row_groups):
        table = parquet.read_row_group(group, columns=columns)
        for row in table.to_pylist():
            row_number += 1
            step(per_row)
            yield _document(source, row, f"{label}:{row_number}")


def _read_hf(source: Source, step: Advance) -> Iterator[Document]:
    """Rows of `hf:NAME[:CONFIG][@SPLIT]` (split train by default), as every data source
    spells a Hugging Face dataset (synthrl.hfdata)."""
    from synthrl.hfdata import hf_rows

    rows = hf_rows(source.name, default_split="train")
    number = 0
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except SynthRLError as err:  # the hub's error: say which library and where
            where = f" at record {number + 1}" if number else ""
            raise SynthRLError(f"library {source.name!r}{where}: {err}") from None
        number += 1
        step(0)
        yield _document(source, row, f"{source.name}:{number}")
