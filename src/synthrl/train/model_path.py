"""Which Hugging Face folder or hub id a model spec trains from."""

from __future__ import annotations

import hashlib
from pathlib import Path

from synthrl.errors import SynthRLError
from synthrl.llm.registry import parse_spec
from synthrl.paths import home


def trainable_path(spec: str) -> str:
    """A path or hub id `transformers` can load for training from a model spec."""
    kind, rest = parse_spec(spec)
    if kind == "embedded":
        from synthrl.models import hf_path

        return str(hf_path(rest))
    if kind in ("hf", "vllm"):
        return rest
    if kind == "gguf":
        from synthrl.train.convert import gguf_to_hf

        gguf = Path(rest).expanduser().resolve()
        target = home() / "models" / f"{hashlib.sha256(str(gguf).encode()).hexdigest()[:12]}-hf"
        if not (target / "config.json").is_file():
            gguf_to_hf(gguf, target)
        return str(target)
    raise SynthRLError(
        f"cannot train {spec!r}: an API model has no weights here. Give the base as "
        "embedded:base, hf:PATH_OR_ID or gguf:PATH."
    )
