"""`models.base_endpoint`: an OpenAI-compatible server (vLLM or SGLang on any number of GPUs,
or llama.cpp's server) that serves the base weights, so that probe and score sample the base
there while `train` loads `models.base` itself. With `evaluate.trained_endpoint` too (a server
of train/model), the evaluate stage asks the two servers instead of loading both models.

Before the first model call synthrl asks the server which models it serves (`GET /v1/models`)
and checks that one of them is the base: the served id (or vLLM's `root`, the path it loaded)
names the same weights as `models.base` (the same hub id or path, or the same file or folder
name); the trained model's server likewise, when the evaluate stage starts.

    problems = endpoint_problems(config)   # [] when the endpoint serves the base
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from synthrl.config import RunConfig
from synthrl.llm.registry import parse_spec


def endpoint_problems(config: RunConfig) -> list[str]:
    """Why `models.base_endpoint` cannot stand in for `models.base` ([] if it can, or if none
    is set)."""
    endpoint = config.models.base_endpoint
    if not endpoint:
        return []
    if parse_spec(config.models.base)[0] == "openai":
        return [
            "models.base must name the base's weights (embedded:, hf:, gguf:, vllm:) when "
            "models.base_endpoint serves them; it names an API endpoint."
        ]
    return serving_problems(endpoint, config.models.base, "models.base_endpoint")


def evaluation_endpoint_problems(config: RunConfig) -> list[str]:
    """`evaluate.trained_endpoint` before the run: an OpenAI-compatible server, set together
    with `models.base_endpoint` (both models are evaluated on one engine). Whether it serves
    train/model is checked when the evaluate stage starts (`serving_problems`)."""
    trained = config.evaluate.trained_endpoint
    if not trained:
        return []
    problems = _spelling("evaluate.trained_endpoint", trained)
    if not config.models.base_endpoint:
        problems.append(
            "evaluate.trained_endpoint needs models.base_endpoint too: base and trained model "
            "are evaluated on the same engine, so serve the base the same way and set it."
        )
    return problems


def _spelling(setting: str, endpoint: str) -> list[str]:
    kind, rest = parse_spec(endpoint)
    if kind != "openai" or not rest.startswith(("http://", "https://")):
        return [
            f"{setting} {endpoint!r} must be an OpenAI-compatible server, written "
            "openai:http://HOST:PORT/v1#SERVED_NAME."
        ]
    return []


def serving_problems(endpoint: str, weights: str, setting: str) -> list[str]:
    """Why the server `endpoint` (openai:URL[#NAME]) does not serve the model spec `weights`."""
    if problems := _spelling(setting, endpoint):
        return problems
    url, _, name = parse_spec(endpoint)[1].partition("#")
    try:
        served = served_models(url)
    except Exception as err:  # connection refused, timeout, not an OpenAI server
        return [
            f"{setting}: {url} did not answer GET /models ({type(err).__name__}: "
            f"{err}); start the server first, or unset {setting}."
        ]
    return _match_problems(weights, url, name, served, setting)


def served_models(url: str, timeout_s: float = 15.0) -> list[dict[str, Any]]:
    """The server's model list (`data` of GET {url}/models)."""
    import httpx

    key = os.environ.get("SYNTHRL_API_KEY") or os.environ.get("OPENAI_API_KEY") or "EMPTY"
    reply = httpx.get(
        f"{url.rstrip('/')}/models", headers={"Authorization": f"Bearer {key}"}, timeout=timeout_s
    )
    reply.raise_for_status()
    return list(reply.json().get("data") or [])


def _match_problems(
    base: str, url: str, name: str, served: list[dict[str, Any]], setting: str
) -> list[str]:
    ids = [str(m.get("id")) for m in served]
    if name and name not in ids:
        return [f"{setting}: {url} serves {ids or 'no model'}, not {name!r}."]
    candidates = [m for m in served if not name or m.get("id") == name]
    if any(same_weights(base, m) for m in candidates):
        return []
    shown = ", ".join(_describe(m) for m in candidates)
    if setting == "models.base_endpoint":
        what, fix = "base", "or set models.base to the weights the server loaded."
        why = "probe and score would sample another model than the one trained"
    else:
        what, fix = "trained model", f"or unset {setting} to evaluate it in-process."
        why = "the evaluation would measure another model than the one trained"
    return [
        f"{setting}: {url} serves {shown or 'no model'}, which does not name the "
        f"{what} {base} ({', '.join(sorted(base_names(base)))}): {why}. Serve those weights "
        "(e.g. `vllm serve PATH --served-model-name NAME`, `python -m llama_cpp.server --model "
        f"FILE.gguf`), {fix}"
    ]


def _describe(model: dict[str, Any]) -> str:
    root = model.get("root")
    return f"{model.get('id')} (root {root})" if root else str(model.get("id"))


def base_names(base: str) -> set[str]:
    """Names a server may give the base's weights: its hub id or path, and the file or folder
    name (for an embedded model: its GGUF's path and file name)."""
    kind, rest = parse_spec(base)
    if kind == "embedded":
        from synthrl.models import MODELS, gguf_path

        if rest not in MODELS:
            return {base}
        path = gguf_path(rest)
        return {str(path), path.name, base}
    names = {rest, Path(rest).name, base}
    local = Path(rest).expanduser()
    if local.exists():
        names.add(str(local.resolve()))
    return names


def same_weights(base: str, served: dict[str, Any]) -> bool:
    """Whether a served model (its id, or vLLM's root) names the base's weights."""
    names = base_names(base)
    for value in (served.get("id"), served.get("root")):
        if not value:
            continue
        text = str(value)
        path = Path(text).expanduser()
        resolved = str(path.resolve()) if path.exists() else text
        if {text, resolved, path.name} & names:
            return True
    return False
