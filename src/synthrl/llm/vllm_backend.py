"""In-process vLLM on a GPU (optional extra `gpu`). Import-guarded: importing this module never
imports vllm; constructing the backend does. `close()` frees the engine and its GPU memory, so
that the next stage can load another model on the same GPU. A request's reply schema becomes
guided decoding (`structured_kwargs`)."""

from __future__ import annotations

import contextlib
import gc
import importlib
from collections.abc import Sequence
from typing import Any

from synthrl.errors import SynthRLError
from synthrl.llm.base import REPETITION_PENALTY, Backend, OnResult, Request, Result, Sample
from synthrl.llm.registry import weights_tag


def cache_name(model: str, max_model_len: int | None = None) -> str:
    """The model as cache keys name it: a hub id as is, local weights with a tag of their files
    (retrained in place, they are another model), and the context length when one is set (vLLM
    stops a completion at the context's end, which can change the answer)."""
    name = f"{model}{weights_tag(model)}"
    return f"{name}#ctx{max_model_len}" if max_model_len else name


def sampling_kwargs(request: Request) -> dict[str, Any]:
    """vllm.SamplingParams arguments for a request: every knob explicit, so neither vLLM's
    defaults nor a model's generation_config.json choose the sampler."""
    kwargs: dict[str, Any] = {
        "n": request.n,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "top_k": request.top_k or -1,  # vLLM: -1 = off
        "min_p": request.min_p,
        "repetition_penalty": REPETITION_PENALTY,
        "max_tokens": request.max_tokens,
        "seed": request.sample_seed(request.first_sample),
    }
    if request.stop:
        kwargs["stop"] = list(request.stop)
    return kwargs


def structured_kwargs(request: Request, params_module: Any) -> dict[str, Any]:
    """The SamplingParams arguments that constrain a request's reply to its schema, in the API
    the installed vLLM has (`params_module`: `vllm.sampling_params`): `structured_outputs=
    StructuredOutputsParams(json=...)` (newer vLLM; the only form since 0.12 removed the
    `guided_*` API), else `guided_decoding=GuidedDecodingParams(json=...)` (older); none without
    a schema or in a vLLM with neither (the reply is parsed as text either way)."""
    schema = request.json_schema()
    if schema is None or params_module is None:
        return {}
    current = getattr(params_module, "StructuredOutputsParams", None)
    if current is not None:
        return {"structured_outputs": current(json=schema)}
    older = getattr(params_module, "GuidedDecodingParams", None)
    if older is not None:
        return {"guided_decoding": older(json=schema)}
    return {}


def _sampling_params_module() -> Any:
    """`vllm.sampling_params`, where its guided-decoding classes live (None if absent)."""
    try:
        return importlib.import_module("vllm.sampling_params")
    except ImportError:
        return None


def to_result(output: Any) -> Result:
    """A vllm RequestOutput as a Result."""
    samples = [Sample(o.text, o.finish_reason or "stop", len(o.token_ids)) for o in output.outputs]
    return Result(samples=samples, prompt_tokens=len(output.prompt_token_ids or ()))


class VLLMBackend(Backend):
    name = "vllm"
    structured = True  # guided decoding (`structured_kwargs`)

    def __init__(
        self, model: str, seed: int = 0, label: str | None = None, **engine_args: Any
    ) -> None:
        """`label` names the model in cache keys (default: `cache_name(model, max_model_len)`)."""
        super().__init__(label or cache_name(model, engine_args.get("max_model_len")))
        try:
            import vllm
        except ImportError:
            raise SynthRLError(
                "the vllm backend needs vLLM and a CUDA GPU: pip install 'synthrl[gpu]'"
            ) from None
        self._vllm = vllm
        self.engine: Any = vllm.LLM(model=model, seed=seed, **engine_args)

    def generate(self, requests: Sequence[Request], on_result: OnResult) -> None:
        if self.engine is None:
            raise SynthRLError("this vLLM engine was closed; open the model again")
        chats = [i for i, r in enumerate(requests) if r.messages is not None]
        prompts = [i for i, r in enumerate(requests) if r.messages is None]
        guides = _sampling_params_module() if any(r.schema for r in requests) else None
        params = [
            self._vllm.SamplingParams(**sampling_kwargs(r), **structured_kwargs(r, guides))
            for r in requests
        ]
        if chats:
            outs = self.engine.chat(
                [requests[i].message_dicts() for i in chats],
                [params[i] for i in chats],
                use_tqdm=False,
            )
            for i, out in zip(chats, outs, strict=True):
                on_result(i, to_result(out))
        if prompts:
            outs = self.engine.generate(
                [requests[i].prompt for i in prompts], [params[i] for i in prompts], use_tqdm=False
            )
            for i, out in zip(prompts, outs, strict=True):
                on_result(i, to_result(out))

    def close(self) -> None:
        """Shut the engine down and give its GPU memory back (weights, KV cache, the
        distributed state vLLM sets up even on one GPU). Safe to call more than once."""
        engine, self.engine = getattr(self, "engine", None), None
        if engine is None:
            return
        shutdown = getattr(engine, "shutdown", None)  # newer vLLM: LLM.shutdown()
        if shutdown is None:  # V1: the engine core client stops its process (the default)
            core = getattr(getattr(engine, "llm_engine", None), "engine_core", None)
            shutdown = getattr(core, "shutdown", None)
        if callable(shutdown):
            shutdown()
        del engine
        release_gpu_memory()


def release_gpu_memory() -> None:
    """vLLM's own clean-up where this vLLM has it (`cleanup_dist_env_and_memory`: model-parallel
    groups, the distributed environment, vLLM's frozen GC heap; older versions: the two
    `destroy_*` calls), then garbage collection and an emptied CUDA cache in any case."""
    try:
        from vllm.distributed import parallel_state
    except ImportError:
        parallel_state = None
    cleanup = getattr(parallel_state, "cleanup_dist_env_and_memory", None)
    if cleanup is not None:
        cleanup()
    elif parallel_state is not None:
        parallel_state.destroy_model_parallel()
        parallel_state.destroy_distributed_environment()
    gc.unfreeze()  # vLLM freezes the heap after start-up; frozen objects are never collected
    gc.collect()
    with contextlib.suppress(ImportError):
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
