"""`models.base_endpoint` against llama.cpp's own server serving the embedded base: the check
before the first call accepts it (and refuses a server of another model), and the probe stage
samples the base through it while the instructor is a scripted fake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthrl.artifacts import RunDir
from synthrl.config import resolve_config
from synthrl.endpoint import endpoint_problems
from synthrl.llm import LLM, CallCache, Ledger
from synthrl.llm.fake import FakeBackend
from synthrl.llm.local_server import LlamaServer
from synthrl.llm.registry import open_llm
from synthrl.pipeline import ModelPool, run_pipeline
from synthrl.stages import STAGES
from synthrl.task import load_task
from tests.fakes import PASSAGES
from tests.stages.test_synthesis import TASK, instructor

pytestmark = pytest.mark.slow


def test_probe_through_llama_cpp_server(base_gguf: Path, tmp_path: Path) -> None:
    server = LlamaServer(base_gguf, alias=str(base_gguf)).start()  # serves the base's file
    try:
        endpoint = f"openai:{server.url}"
        config = resolve_config(
            "cpu",
            overrides={
                "models": {"base": "embedded:base", "base_endpoint": endpoint},
                "generate": {"n": 2},
                "verify": {"k": 3},
                "retrieve": {"per_keyword": 2},
                "probe": {"max_tokens": 48},
            },
        )
        assert endpoint_problems(config) == []
        other = config.model_copy(
            update={"models": config.models.model_copy(update={"base": "embedded:small"})}
        )
        assert "does not name the base embedded:small" in endpoint_problems(other)[0]

        library = tmp_path / "passages.jsonl"
        library.write_text("".join(json.dumps(p) + "\n" for p in PASSAGES))
        task_path = tmp_path / "task.yaml"
        task_path.write_text(TASK.format(library=library, demos=""))
        task = load_task(task_path)
        ledger, cache = Ledger(), CallCache(tmp_path / "calls.sqlite")
        opened: list[str] = []

        def open_model(spec: str) -> LLM:
            opened.append(spec)
            if spec.startswith("openai:"):
                return open_llm(spec, config.llm, cache, ledger, show_progress=False)
            return LLM(FakeBackend("inst", instructor), cache, ledger, spec, False)

        run = RunDir(tmp_path / "run")
        pool = ModelPool(config, open_model, cache, ledger)
        run_pipeline(STAGES, task, config, run, pool, ledger, stop="probe")
        pool.close()
        assert endpoint in opened and "embedded:base" not in opened
        probed = run.rows("probe", "samples.jsonl")
        assert probed and all(row["probe_completion"].strip() for row in probed)
        assert run.manifest("probe")["samplers"]["base"]["backend"] == "openai"
    finally:
        server.stop()
