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
        from synthrl.train.convert import convert_once

        gguf = Path(rest).expanduser().resolve()
        target = home() / "models" / f"{hashlib.sha256(str(gguf).encode()).hexdigest()[:12]}-hf"
        return str(convert_once(gguf, target))
    raise SynthRLError(untrainable_reason(spec) or f"cannot train {spec!r}")


def untrainable_reason(spec: str) -> str | None:
    """Why `spec` cannot be trained here (None if it can), found without loading anything."""
    kind, rest = parse_spec(spec)
    if kind == "openai":
        return (
            f"the base model {spec!r} is an API endpoint, which has no weights to train; give "
            "the base as embedded:base, hf:PATH_OR_ID, vllm:PATH_OR_ID or gguf:PATH (or stop "
            "before training with --to select). To sample the base through a server that "
            "serves those weights, set models.base_endpoint to it (openai:http://HOST/v1#NAME) "
            "and models.base to the weights."
        )
    if kind == "gguf" and not Path(rest).expanduser().is_file():
        return f"the base model file {rest} does not exist."
    if kind == "embedded":
        from synthrl.models import MODELS

        if rest not in MODELS:
            return f"embedded:{rest} is not an embedded model; use one of: {', '.join(MODELS)}."
    return None
