"""What a stage's output depends on, as short content hashes: the files a stage read (upstream
artifacts, evaluation and training files), the model weights it ran, the prompt templates.

The pipeline hashes these into each stage's fingerprint (see `synthrl.pipeline`), so a stage
reruns exactly when something that can change its output changed: an upstream stage that wrote
other data (GRPO is not deterministic), a retrained model, an edited evaluation file, another
library, another prompt. Hashes of large files are memoised per process by (path, size, mtime).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_CHUNK = 1 << 22
_SETTLED_S = 3.0
_MEMO: dict[tuple[str, int, int], str] = {}
# Not content: the manifest itself, resume points, and temporary files being written.
_SKIP_DIRS = frozenset({"checkpoints"})
_SKIP_FILES = frozenset({"manifest.json", "fingerprint.txt"})
DOC_FILES = frozenset({"README.md"})  # cards (synthrl.export.cards), at any depth: not content


def digest(value: Any) -> str:
    """A short, stable hash of a JSON-serialisable value."""
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def file_digest(path: Path) -> str:
    """The sha256 of a file's bytes (first 16 hex digits), memoised by path, size and mtime for
    files not modified in the last seconds (file times are coarse: a file rewritten within the
    same tick keeps its mtime, as "racy git" found)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _MEMO:
        return _MEMO[key]
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            sha.update(chunk)
    value = sha.hexdigest()[:16]
    if time.time() - stat.st_mtime > _SETTLED_S:
        _MEMO[key] = value
    return value


def _content_files(folder: Path) -> Iterable[Path]:
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).parts
        if not path.is_file() or any(part.startswith(".") for part in rel):
            continue
        if path.name in DOC_FILES:
            continue
        if any(part in _SKIP_DIRS for part in rel[:-1]) or rel[-1] in _SKIP_FILES:
            continue
        yield path


def folder_digest(folder: Path) -> str | None:
    """A hash of a stage folder's data: every file's relative path and bytes (the manifest,
    checkpoints and hidden temporary files excluded). None if the folder does not exist."""
    if not folder.is_dir():
        return None
    return digest([[str(p.relative_to(folder)), file_digest(p)] for p in _content_files(folder)])


def path_digest(name: str | None, base_dir: Path | None = None) -> str | None:
    """The content hash of a local file or folder named in settings (relative to `base_dir`);
    names that are not local paths (`hf:...`) are returned as they are."""
    if not name:
        return None
    if name.startswith("hf:"):
        return name
    path = Path(name).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if path.is_file():
        return file_digest(path)
    if path.is_dir():
        return folder_digest(path)
    return f"missing:{path}"


def model_identity(spec: str) -> str:
    """What identifies a model spec's weights: the embedded model's pinned sha256, a local
    file's or folder's size-and-mtime tag (a model retrained in place changes it), or the
    spec itself (hub ids and API models, whose weights synthrl cannot see)."""
    from synthrl.llm.registry import parse_spec, weights_tag

    kind, rest = parse_spec(spec)
    if kind == "embedded":
        from synthrl.models import MODELS

        model = MODELS.get(rest)
        return f"{spec}@{model.sha256[:16]}" if model else spec
    if kind in ("gguf", "hf", "vllm"):
        return f"{spec}{weights_tag(rest)}"
    return spec
