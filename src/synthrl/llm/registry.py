"""Model specs -> backends, from one explicit table.

openai:gpt-4o                         OpenAI (or $OPENAI_BASE_URL), key from $OPENAI_API_KEY
openai:http://localhost:8000/v1#qwen  any OpenAI-compatible server; '#model' names the model
embedded:instructor | base | small    embedded GGUF models on llama.cpp (CPU)
gguf:PATH                             a GGUF file on llama.cpp
hf:PATH_OR_ID                         transformers, in process
vllm:MODEL                            vLLM, in process on a GPU
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from synthrl.config import LLMConfig
from synthrl.errors import SynthRLError
from synthrl.llm.base import Backend
from synthrl.llm.cache import CallCache
from synthrl.llm.client import LLM
from synthrl.llm.usage import Budget, Ledger, load_prices


def parse_spec(spec: str) -> tuple[str, str]:
    """Split 'kind:rest'; reject unknown kinds with the list of known ones."""
    kind, sep, rest = spec.partition(":")
    if not sep or not rest or kind not in BACKENDS:
        raise SynthRLError(
            f"model spec {spec!r} not understood; write KIND:MODEL with KIND one of "
            f"{', '.join(BACKENDS)} (e.g. embedded:base, openai:gpt-4o, hf:Qwen/Qwen2.5-0.5B)."
        )
    return kind, rest


def weights_tag(path: str | Path) -> str:
    """A short tag of local weights (file names, sizes, modification times), so the call cache
    never answers for a model whose files have since changed (e.g. retrained in place). Hub ids
    and missing paths get an empty tag."""
    path = Path(path).expanduser()
    if path.is_file():
        files = [path]
    elif path.is_dir():  # a model card (README.md) is not weights
        files = sorted(p for p in path.iterdir() if p.is_file() and p.name != "README.md")
    else:
        return ""
    stamp = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    return "@" + hashlib.sha256(repr(stamp).encode()).hexdigest()[:12]


def pricing(spec: str) -> tuple[str, dict[str, str] | None, bool]:
    """How a model spec is priced without opening it: (the name prices are looked up by, the
    provider for the maintained table, whether it runs on this machine at no cost)."""
    kind, rest = parse_spec(spec)
    if kind != "openai":
        return spec, None, True
    if rest.startswith(("http://", "https://")):
        base_url, _, model = rest.partition("#")
        return model or "default", {"provider_api_url": base_url}, False
    base_url = os.environ.get("OPENAI_BASE_URL")
    return rest, ({"provider_api_url": base_url} if base_url else {"provider_id": "openai"}), False


def _openai(rest: str, cfg: LLMConfig) -> Backend:
    from synthrl.llm.openai_backend import OpenAIBackend

    if rest.startswith(("http://", "https://")):
        base_url, _, model = rest.partition("#")
        key = os.environ.get("SYNTHRL_API_KEY") or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        model = model or "default"
    else:
        base_url, model = os.environ.get("OPENAI_BASE_URL"), rest
        key = os.environ.get("SYNTHRL_API_KEY") or os.environ.get("OPENAI_API_KEY") or ""
        if not key:
            raise SynthRLError(f"openai:{rest} needs an API key: export OPENAI_API_KEY=...")
    return OpenAIBackend(
        model, base_url, key, cfg.concurrency, cfg.max_retries, cfg.timeout_s, cfg.backoff_s
    )


def _embedded(rest: str, cfg: LLMConfig) -> Backend:
    from synthrl.llm.llamacpp_backend import LlamaCppBackend
    from synthrl.models import MODELS, prepare_gguf

    path = prepare_gguf(rest)
    name = f"embedded:{rest}@{MODELS[rest].sha256[:12]}"
    return LlamaCppBackend(path, name, cfg.context, cfg.threads, cfg.parallel, cfg.batch_greedy)


def _gguf(rest: str, cfg: LLMConfig) -> Backend:
    from synthrl.llm.llamacpp_backend import LlamaCppBackend

    path = Path(rest).expanduser().resolve()
    name = f"gguf:{path}{weights_tag(path)}"
    return LlamaCppBackend(path, name, cfg.context, cfg.threads, cfg.parallel, cfg.batch_greedy)


def _hf(rest: str, cfg: LLMConfig) -> Backend:
    from synthrl.llm.transformers_backend import TransformersBackend

    return TransformersBackend(rest, f"hf:{rest}{weights_tag(rest)}", cfg.threads)


def _vllm(rest: str, cfg: LLMConfig) -> Backend:
    from synthrl.llm.vllm_backend import VLLMBackend

    args = {"max_model_len": cfg.context, **cfg.engine_args}  # llm.engine_args, set last
    return VLLMBackend(rest, seed=cfg.seed, label=vllm_label(rest, args), **args)


# vllm.LLM arguments that change speed and memory only, never an answer: kept out of cache keys.
_PERF_ONLY = frozenset({"gpu_memory_utilization", "enforce_eager", "max_num_seqs", "swap_space"})


def vllm_label(model: str, engine_args: dict[str, object]) -> str:
    """The cache name of a vLLM model with `engine_args`: those that can change an answer
    (dtype, revision, quantization, tensor parallelism, context, ...) are part of it."""
    from synthrl.fingerprint import digest
    from synthrl.llm.vllm_backend import cache_name

    shaping = {k: v for k, v in engine_args.items() if k not in _PERF_ONLY | {"max_model_len"}}
    name = cache_name(model, engine_args.get("max_model_len"))  # type: ignore[arg-type]
    return f"{name}#{digest(shaping)}" if shaping else name


BACKENDS: dict[str, Callable[[str, LLMConfig], Backend]] = {
    "openai": _openai,
    "embedded": _embedded,
    "gguf": _gguf,
    "hf": _hf,
    "vllm": _vllm,
}


def open_backend(spec: str, cfg: LLMConfig | None = None) -> Backend:
    """Start the engine a model spec names."""
    kind, rest = parse_spec(spec)
    return BACKENDS[kind](rest, cfg or LLMConfig())


def open_llm(
    spec: str,
    cfg: LLMConfig | None = None,
    cache: CallCache | None = None,
    ledger: Ledger | None = None,
    show_progress: bool = True,
    budget: Budget | None = None,
) -> LLM:
    """A model spec's backend behind the call cache, a usage ledger and an optional budget."""
    cfg = cfg or LLMConfig()
    ledger = ledger if ledger is not None else Ledger(load_prices(cfg.prices_file))
    backend = open_backend(spec, cfg)
    return LLM(
        backend,
        cache,
        ledger,
        label=spec,
        show_progress=show_progress,
        budget=budget,
        structured=cfg.structured,
    )
