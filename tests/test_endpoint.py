"""`models.base_endpoint`: the pool samples the base there (probe, score), training keeps
`models.base`; before the first call synthrl checks that the server serves those weights
(GET /v1/models: the served id, or vLLM's root, names the base)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from synthrl.artifacts import RunDir
from synthrl.config import resolve_config
from synthrl.endpoint import endpoint_problems
from synthrl.errors import SynthRLError
from synthrl.pipeline import ModelPool, fingerprint
from synthrl.preflight import check_plan
from synthrl.stages import STAGES
from synthrl.task import load_task
from tests.conftest import GOOD_TASK


@pytest.fixture
def models_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    served: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"object": "list", "data": served}).encode()
            self.send_response(200 if self.path.endswith("/models") else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", served
    httpd.shutdown()


def config_for(base: str, endpoint: str | None):
    return resolve_config("cpu", overrides={"models": {"base": base, "base_endpoint": endpoint}})


def test_served_model_must_be_the_base(models_server, tmp_path: Path) -> None:
    url, served = models_server
    weights = tmp_path / "Qwen2.5-7B"
    weights.mkdir()
    served[:] = [{"id": "Qwen/Qwen2.5-7B", "root": str(weights)}]  # vLLM: id and root
    assert endpoint_problems(config_for(f"hf:{weights}", f"openai:{url}")) == []
    assert (
        endpoint_problems(config_for("hf:Qwen/Qwen2.5-7B", f"openai:{url}#Qwen/Qwen2.5-7B")) == []
    )
    served[:] = [{"id": "/models/llama-3-8b"}]
    (problem,) = endpoint_problems(config_for("hf:Qwen/Qwen2.5-7B", f"openai:{url}"))
    assert "does not name the base hf:Qwen/Qwen2.5-7B" in problem and "served-model-name" in problem
    (missing,) = endpoint_problems(config_for("hf:Qwen/Qwen2.5-7B", f"openai:{url}#other"))
    assert "not 'other'" in missing


def test_embedded_base_served_by_its_gguf_path(models_server) -> None:
    from synthrl.models import gguf_path

    url, served = models_server
    served[:] = [{"id": str(gguf_path("base")), "object": "model"}]  # llama_cpp.server --model
    assert endpoint_problems(config_for("embedded:base", f"openai:{url}")) == []
    assert endpoint_problems(config_for("embedded:small", f"openai:{url}"))


def test_unreachable_endpoint_and_wrong_pairs() -> None:
    (down,) = endpoint_problems(config_for("hf:x", "openai:http://127.0.0.1:9/v1"))
    assert "did not answer GET /models" in down and "start the server first" in down
    (not_server,) = endpoint_problems(config_for("hf:x", "hf:y"))
    assert "openai:http://HOST:PORT/v1" in not_server
    (api_base,) = endpoint_problems(config_for("openai:gpt-4o", "openai:http://127.0.0.1:9/v1"))
    assert "must name the base's weights" in api_base


def test_untrainable_base_points_at_the_endpoint_pair(write_task) -> None:
    from synthrl.errors import SynthRLError

    task = load_task(write_task(GOOD_TASK))
    with pytest.raises(SynthRLError, match=r"models\.base_endpoint"):
        check_plan(task, config_for("openai:http://h/v1#m", None), ["train"])


def test_pool_routes_the_base_to_the_endpoint(write_task) -> None:
    task = load_task(write_task(GOOD_TASK))
    endpoint = "openai:http://127.0.0.1:8000/v1#base"
    with_endpoint = config_for("hf:Qwen/Qwen2.5-0.5B", endpoint)
    without = config_for("hf:Qwen/Qwen2.5-0.5B", None)
    pool = ModelPool(with_endpoint, lambda spec: None)  # type: ignore[arg-type,return-value]
    assert pool.spec("base") == endpoint and pool.spec("instructor") == "embedded:instructor"
    assert ModelPool(without, lambda s: None).spec("base") == "hf:Qwen/Qwen2.5-0.5B"  # type: ignore[arg-type,return-value]
    stages = {s.name: s for s in STAGES}
    run = RunDir(Path("/nonexistent"))
    for name, changes in (("score", True), ("train", False)):
        a = fingerprint(stages[name], task, with_endpoint, run)
        b = fingerprint(stages[name], task, without, run)
        assert (a != b) is changes, name


class ModelServer:
    """An OpenAI-compatible loopback server of one model: GET /models lists `served_id`; every
    chat completion answers `reply`."""

    def __init__(self, served_id: str, reply: str) -> None:
        self.served_id, self.reply, self.asked = served_id, reply, 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._send({"object": "list", "data": [{"id": server.served_id}]})

            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.asked += 1
                choices = [
                    {"index": i, "message": {"role": "assistant", "content": server.reply},
                     "finish_reason": "stop"}
                    for i in range(request.get("n", 1))
                ]  # fmt: skip
                usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
                reply = {"id": "x", "object": "chat.completion", "created": 0}
                self._send({**reply, "model": "m", "choices": choices, "usage": usage})

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


EVAL_TASK = GOOD_TASK + "evaluation:\n  path: {path}\n"


def test_evaluate_through_the_two_servers(write_task, tmp_path: Path) -> None:
    """evaluate.trained_endpoint with models.base_endpoint: evaluate asks the base's server and
    the trained model's (checked to serve train/model), loading neither model here."""
    from synthrl.llm import CallCache, Ledger
    from synthrl.pipeline import run_pipeline

    items = tmp_path / "eval.jsonl"
    items.write_text("".join(json.dumps({"question": f"{i} + 2?", "answer": "4"}) + "\n"
                             for i in range(3)))  # fmt: skip
    task = load_task(write_task(EVAL_TASK.format(path=items)))
    base_dir, run = tmp_path / "Qwen2.5-0.5B", RunDir(tmp_path / "run")
    base_dir.mkdir()
    trained_dir = run.stage_dir("train") / "model"
    trained_dir.mkdir(parents=True)
    (trained_dir / "model.safetensors").write_bytes(b"weights")
    run.finish("train", {"counts": {"steps": 1}})
    base, trained = ModelServer(str(base_dir), "#### 5"), ModelServer("other-model", "#### 4")
    try:
        overrides = {
            "models": {"base": f"hf:{base_dir}", "base_endpoint": f"openai:{base.url}"},
            "evaluate": {"trained_endpoint": f"openai:{trained.url}", "temperature": 0.0},
        }
        config = resolve_config("cpu", overrides=overrides)
        check_plan(task, config, ["evaluate"])  # the base's server serves the base
        cache = CallCache(tmp_path / "calls.sqlite")
        pool = ModelPool(config, lambda spec: None, cache, Ledger())  # type: ignore[arg-type,return-value]

        (stage,) = [s for s in STAGES if s.name == "evaluate"]

        def evaluate() -> None:
            run_pipeline([stage], task, config, run, pool, pool.ledger, force=True)

        with pytest.raises(SynthRLError, match=r"evaluate\.trained_endpoint: .* serves other"):
            evaluate()  # the trained model's server serves another model
        trained.served_id = str(trained_dir)
        evaluate()
        results = json.loads((run.stage_dir("evaluate") / "results.json").read_text())
        assert results["engine"] == "endpoint" and base.asked == trained.asked == 3
        assert results["base"]["strict_mean"] == 0 and results["trained"]["strict_mean"] == 1
        (trained_dir / "model.safetensors").write_bytes(b"retrained")  # same server and name:
        evaluate()
        assert trained.asked == 6 and base.asked == 3  # asked again, not answered from cache
        cache.close()
    finally:
        base.close()
        trained.close()


def test_trained_endpoint_needs_the_base_endpoint(write_task, tmp_path: Path) -> None:
    items = tmp_path / "eval.jsonl"
    items.write_text(json.dumps({"question": "2 + 2?", "answer": "4"}) + "\n")
    task = load_task(write_task(EVAL_TASK.format(path=items)))
    alone = resolve_config(
        "cpu", overrides={"evaluate": {"trained_endpoint": "openai:http://127.0.0.1:9/v1"}}
    )
    with pytest.raises(SynthRLError, match=r"needs models\.base_endpoint too"):
        check_plan(task, alone, ["evaluate"])
    check_plan(task, alone, ["select"])  # not evaluating: nothing to refuse
    engine = alone.model_copy(
        update={"evaluate": alone.evaluate.model_copy(update={"engine": "transformers"})}
    )
    with pytest.raises(SynthRLError, match=r"cannot be combined with evaluate\.engine"):
        check_plan(task, engine, ["evaluate"])
