"""The engine the evaluate stage runs base and trained model on: always the same one for both,
at the same precision, so that only the weights differ.

- `vllm`: when the base model is a `vllm:` spec (a GPU);
- `llamacpp`: both Hugging Face folders written as GGUF (`evaluate.gguf_dtype`, q8_0 by default)
  into the template of the base's own GGUF, decoded by llama.cpp with batched greedy decoding:
  the fast choice on a CPU (several times transformers' fp32 speed) for bases that come from a
  GGUF (`embedded:`, `gguf:`);
- `transformers`: fp32 on a CPU (bf16 on a GPU), for everything else;
- `endpoint`: with `evaluate.trained_endpoint`, both through OpenAI-compatible servers (the base
  through `models.base_endpoint`), nothing loaded here.

`evaluate.engine: auto` picks endpoint when evaluate.trained_endpoint is set, vllm, then
llamacpp on a machine without CUDA when the base has a GGUF, else transformers.
"""

from __future__ import annotations

from pathlib import Path

from synthrl.config import RunConfig
from synthrl.errors import SynthRLError
from synthrl.llm.base import Backend
from synthrl.llm.registry import parse_spec


def engine_for(config: RunConfig) -> str:
    """The engine `evaluate.engine` names, with `auto` resolved for this machine."""
    chosen = config.evaluate.engine
    kind = parse_spec(config.models.base)[0]
    if config.evaluate.trained_endpoint:
        if chosen != "auto":
            raise SynthRLError(
                f"evaluate.trained_endpoint evaluates both models through their servers; "
                f"it cannot be combined with evaluate.engine={chosen} (leave that auto)."
            )
        return "endpoint"
    if chosen != "auto":
        if chosen == "llamacpp" and gguf_template(config.models.base) is None:
            raise SynthRLError(
                f"evaluate.engine=llamacpp needs a base that comes from a GGUF (embedded:, gguf:); "
                f"{config.models.base} does not. Use evaluate.engine=transformers."
            )
        return chosen
    if kind == "vllm":
        return "vllm"
    if gguf_template(config.models.base) is not None and not _cuda():
        return "llamacpp"
    return "transformers"


def gguf_template(spec: str) -> Path | None:
    """The GGUF a base model spec comes from, if any (its metadata shapes the written GGUFs)."""
    kind, rest = parse_spec(spec)
    if kind == "embedded":
        from synthrl.models import MODELS, gguf_path

        return gguf_path(rest) if rest in MODELS else None
    if kind == "gguf":
        return Path(rest).expanduser().resolve()
    return None


def base_gguf(spec: str) -> Path:
    """The GGUF file the trained models are written into (`cached_gguf`): the base's own,
    assembled first for an embedded model."""
    kind, rest = parse_spec(spec)
    if kind == "embedded":
        from synthrl.models import prepare_gguf

        return prepare_gguf(rest)
    template = gguf_template(spec)
    if template is None:
        raise SynthRLError(f"{spec} does not come from a GGUF; llama.cpp cannot run its copies.")
    return template


def eval_backend(
    config: RunConfig, engine: str, hf_dir: str, label: str, role: str = "base"
) -> Backend:
    """A backend for the Hugging Face model in `hf_dir` (the `role` "base" or "trained") on
    `engine`."""
    if engine == "endpoint":
        return _endpoint_backend(config, hf_dir, label, role)
    if engine == "vllm":
        from synthrl.llm.registry import vllm_label
        from synthrl.llm.vllm_backend import VLLMBackend

        args = {"max_model_len": config.llm.context, **config.llm.engine_args}  # set last
        return VLLMBackend(hf_dir, config.llm.seed, vllm_label(label, args), **args)
    if engine == "llamacpp":
        from synthrl.export.gguf import cached_gguf
        from synthrl.llm.llamacpp_backend import LlamaCppBackend

        dtype = config.evaluate.gguf_dtype
        path = cached_gguf(Path(hf_dir), base_gguf(config.models.base), dtype)
        llm = config.llm
        return LlamaCppBackend(
            path, f"{label}#{dtype}", llm.context, llm.threads, llm.parallel, batch_greedy=True
        )
    from synthrl.llm.transformers_backend import TransformersBackend

    return TransformersBackend(hf_dir, label, config.llm.threads, config.evaluate.batch_size)


def _endpoint_backend(config: RunConfig, hf_dir: str, label: str, role: str) -> Backend:
    """The server of `role` (models.base_endpoint, evaluate.trained_endpoint); the trained
    one is checked to serve `hf_dir` first. Cache keys also carry `label` (with the local
    weights' tag), so a model retrained and served under the same name is asked again."""
    from synthrl.endpoint import serving_problems
    from synthrl.llm.registry import open_backend

    if role == "trained":
        spec = str(config.evaluate.trained_endpoint)
        problems = serving_problems(spec, f"hf:{hf_dir}", "evaluate.trained_endpoint")
        if problems:
            raise SynthRLError(problems[0])
    else:
        spec = str(config.models.base_endpoint)
    backend = open_backend(spec, config.llm)
    backend.model = f"{backend.model}|{label}"
    return backend


def _cuda() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - a core dependency
        return False
    return bool(torch.cuda.is_available())
