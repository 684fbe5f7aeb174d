"""A passage library with a persistent BM25 index (bm25s): `open_library(spec, chunk_words)`.

Building streams the library once: each document is cut into chunks, each chunk is appended to
`passages.jsonl` (its byte offsets in `offsets.npy`) and only its token ids stay in memory until
bm25s scores them. Texts are read back from disk per hit; the score matrix is memory-mapped.

The index folder is `.synthrl-index/<settings>-<content>/` beside a writable library, else
`synthrl.paths.home()/indexes/<settings>-<content>/` (the embedded library, read-only folders,
Hugging Face datasets). `<settings>` hashes the library's resolved name, fields, chunk size and
index format; `<content>` is `Source.fingerprint()`. `meta.json` is written last, so a folder
without it is ignored; when the library changes, a new folder is built and the stale one deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from array import array
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from synthrl.errors import SynthRLError
from synthrl.paths import home
from synthrl.retrieval.sources import Source, resolve_source
from synthrl.retrieval.text import Vocabulary, chunk_text
from synthrl.task import LibrarySpec

INDEX_VERSION = 1  # bump when chunking, tokenizing or the files change: old indexes rebuild
INDEX_DIR = ".synthrl-index"
META = "meta.json"
PASSAGES = "passages.jsonl"
OFFSETS = "offsets.npy"


@dataclass(frozen=True)
class Passage:
    """One chunk of a library document. `id` is `<source>#<chunk number>`; `source` names the
    document (`file:line`, `file:row`, `wikipedia:<title>` or `hf:NAME:<row>`)."""

    id: str
    title: str | None
    text: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Library:
    """A built index: passages by id, and BM25 search over them."""

    def __init__(self, folder: Path, meta: dict[str, Any], built: bool) -> None:
        self.folder = folder
        self.meta = meta
        self.built = built  # True when this open built the index, False when it reused one
        self._bm25 = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        self._vocab = Vocabulary(self._bm25.vocab_dict)
        self._offsets = np.load(folder / OFFSETS, mmap_mode="r")
        # Held open, so a rebuild that replaces the folder cannot mix old offsets and new texts.
        self._file = (folder / PASSAGES).open("rb")
        self._lock = threading.Lock()
        self._ids: dict[str, int] | None = None

    def __len__(self) -> int:
        return int(self.meta["passages"])

    def __repr__(self) -> str:
        return f"Library({self.meta['library']!r}, {len(self)} passages, {self.folder})"

    def passages(self, indices: Sequence[int]) -> list[Passage]:
        """The passages at these positions in the index, read from disk."""
        lines = []
        with self._lock:
            for index in indices:
                start, end = int(self._offsets[index]), int(self._offsets[index + 1])
                self._file.seek(start)
                lines.append(self._file.read(end - start))
        return [Passage(**json.loads(line)) for line in lines]

    def __iter__(self) -> Iterator[Passage]:
        for start in range(0, len(self), 1024):
            yield from self.passages(range(start, min(start + 1024, len(self))))

    def close(self) -> None:
        """Close the passages file (also done when the Library is garbage-collected)."""
        file = getattr(self, "_file", None)
        if file is not None:
            file.close()

    __del__ = close

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, passage_id: str) -> Passage:
        """The passage with this id; raise SynthRLError if the library has none."""
        if self._ids is None:  # built on first use: one pass over the passages file
            self._ids = {p.id: i for i, p in enumerate(self)}
        if passage_id not in self._ids:
            raise SynthRLError(f"no passage {passage_id!r} in library {self.meta['library']!r}")
        return self.passages([self._ids[passage_id]])[0]

    def search(self, query: str, k: int) -> list[tuple[Passage, float]]:
        """Up to k passages matching `query`, best first, with their BM25 scores (all > 0)."""
        return self.search_many([query], k)[0]

    def search_many(self, queries: Sequence[str], k: int) -> list[list[tuple[Passage, float]]]:
        """`search` for several queries, reading the hits' texts in one pass."""
        hits = [self._top(query, k) for query in queries]
        flat = sorted({i for row in hits for i, _ in row})
        by_index = dict(zip(flat, self.passages(flat), strict=True))
        return [[(by_index[i], score) for i, score in row] for row in hits]

    def query_key(self, query: str) -> tuple[int, ...]:
        """The query's sorted token ids: queries with equal keys get equal results."""
        return tuple(sorted(self._vocab.ids(query, grow=False)))

    def _top(self, query: str, k: int) -> list[tuple[int, float]]:
        ids = self._vocab.ids(query, grow=False)
        if not ids or k < 1:
            return []
        scores = self._bm25.get_scores_from_ids(ids)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]  # best first, ties by position
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]


def open_library(
    spec: LibrarySpec,
    chunk_words: int,
    progress: bool = True,
    base_dir: Path | None = None,
    rebuild: bool = False,
) -> Library:
    """Open the library `spec` names, building its index unless a current one is saved.

    Relative paths are resolved against `base_dir` (e.g. the task file's folder). The embedded
    library reads its own fields (`extract`, `title`) whatever the spec says. `rebuild` forces a
    new index (for a Hugging Face dataset that changed on the hub)."""
    if chunk_words < 1:
        raise SynthRLError(f"chunk_words must be at least 1, got {chunk_words}")
    source = resolve_source(spec, base_dir)
    settings = {
        "version": INDEX_VERSION,
        "library": source.name,
        "text_field": source.text_field,
        "title_field": source.title_field,
        "chunk_words": chunk_words,
    }
    settings_key = _hash(json.dumps(settings, sort_keys=True))[:12]
    folder = _index_root(source) / f"{settings_key}-{source.fingerprint()}"
    meta = None if rebuild else _read_meta(folder)
    if meta is not None:
        return Library(folder, meta, built=False)
    meta = _build(source, folder, settings, chunk_words, progress, replace=rebuild)
    _remove_stale(folder, settings_key)
    return Library(folder, meta, built=True)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _index_root(source: Source) -> Path:
    if source.kind == "files" and source.root is not None:
        beside = source.root / INDEX_DIR
        try:
            beside.mkdir(exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=beside):
                pass
            return beside
        except OSError:
            pass
    return home() / "indexes"


def _read_meta(folder: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return meta if meta.get("version") == INDEX_VERSION else None


def _remove_stale(folder: Path, settings_key: str) -> None:
    """Delete older indexes of the same library and settings (the library has changed)."""
    for sibling in folder.parent.iterdir():
        if sibling.name.startswith(f"{settings_key}-") and sibling != folder:
            shutil.rmtree(sibling, ignore_errors=True)


def _build(
    source: Source,
    folder: Path,
    settings: dict[str, Any],
    chunk_words: int,
    progress: bool,
    replace: bool,
) -> dict[str, Any]:
    """Index the library into a temporary folder, then move it into place."""
    started = time.perf_counter()
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the index may serve other users
    try:
        counts, token_ids, vocab = _write_passages(source, staging, chunk_words, progress)
        if not token_ids:
            docs = counts["documents"]
            what = f"{docs} records, all with empty text" if docs else "no records"
            raise SynthRLError(f"library {source.name!r} has no passages ({what}).")
        bm25 = bm25s.BM25()
        bm25.index((token_ids, vocab.stems), create_empty_token=False, show_progress=False)
        del token_ids
        bm25.save(str(staging), show_progress=False)
        meta = {
            **settings,
            "kind": source.kind,
            "content": folder.name.rsplit("-", 1)[1],
            **counts,
            "vocabulary": len(vocab.stems),
            "build_s": round(time.perf_counter() - started, 3),
            "built_at": time.time(),
        }
        (staging / META).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        _move_into_place(staging, folder, replace)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _read_meta(folder) or meta


def _move_into_place(staging: Path, folder: Path, replace: bool) -> None:
    if replace and folder.exists():  # move the old index aside: readers keep their open files
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        os.replace(folder, old)
        shutil.rmtree(old, ignore_errors=True)
    try:
        os.replace(staging, folder)
    except OSError:  # another process finished the same index first: keep a complete one
        if _read_meta(folder) is None:
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(staging, folder)


def _write_passages(
    source: Source, staging: Path, chunk_words: int, progress: bool
) -> tuple[dict[str, int], list[array], Vocabulary]:
    """Stream documents into `passages.jsonl` + `offsets.npy`; return counts and token ids."""
    vocab = Vocabulary()
    token_ids: list[array] = []
    offsets = array("q", [0])
    documents = 0
    with (staging / PASSAGES).open("wb") as out, _progress(source, progress) as advance:
        for doc in source.documents(advance):
            documents += 1
            for number, chunk in enumerate(chunk_text(doc.text, chunk_words), 1):
                row = {"id": f"{doc.source}#{number}", "title": doc.title, "text": chunk}
                line = json.dumps({**row, "source": doc.source}, ensure_ascii=False) + "\n"
                offsets.append(offsets[-1] + out.write(line.encode("utf-8")))
                searchable = f"{doc.title}\n{chunk}" if doc.title else chunk
                token_ids.append(array("i", vocab.ids(searchable, grow=True)))
    np.save(staging / OFFSETS, np.frombuffer(offsets, dtype=np.int64))
    return {"documents": documents, "passages": len(token_ids)}, token_ids, vocab


def _progress(source: Source, show: bool) -> Any:
    """A context manager yielding an `advance(bytes)` callback that drives a progress bar."""
    if not show:
        return nullcontext(None)
    return _Bar(source)


class _Bar:
    def __init__(self, source: Source) -> None:
        from synthrl.llm.client import progress_bar

        self.bar = progress_bar()
        megabytes = source.total_bytes / 1e6 if source.files else None
        self.task = self.bar.add_task(f"indexing {source.name} (MB)", total=megabytes)
        self.pending = 0.0

    def advance(self, nbytes: float) -> None:
        self.pending += nbytes
        if self.pending >= 1e6:  # redraw per megabyte, not per record
            self.bar.advance(self.task, self.pending / 1e6)
            self.pending = 0.0

    def __enter__(self) -> Any:
        self.bar.start()
        return self.advance

    def __exit__(self, *exc: object) -> None:
        self.bar.advance(self.task, self.pending / 1e6)
        self.bar.stop()
