"""Pass-through settings for what synthrl does not model: `train.trl_args` (further TRL
GRPOConfig fields, set last, e.g. `vllm_mode: server`), `train.report_to` (every tracker the
Hugging Face Trainer takes) and `llm.engine_args` (vllm.LLM arguments); names TRL or the
Trainer do not know are refused before the run, with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthrl.config import resolve_config
from synthrl.errors import SynthRLError
from synthrl.preflight import check_plan, tracker_problems
from synthrl.task import load_task
from tests.conftest import GOOD_TASK

pytest.importorskip("trl")


def test_trl_args_are_set_last(tmp_path: Path) -> None:
    from synthrl.train.trl_grpo import grpo_args

    trl_args = {"vllm_mode": "server", "vllm_server_host": "10.0.0.2", "max_grad_norm": 0.5}
    cfg = resolve_config("paper", overrides={"train": {"vllm": True, "trl_args": trl_args}})
    args = grpo_args(cfg.train, tmp_path, n_prompts=500)
    assert args.vllm_mode == "server" and args.vllm_server_host == "10.0.0.2"  # not colocate
    assert args.max_grad_norm == 0.5 and args.learning_rate == 1e-6  # the rest as modelled


def test_unknown_trl_args_and_trackers_are_refused_before_the_run(write_task) -> None:
    task = load_task(write_task(GOOD_TASK))
    config = resolve_config(
        "cpu",
        overrides={"train": {"trl_args": {"max_grad_nrom": 1.0}, "report_to": ["tensorbaord"]}},
    )
    with pytest.raises(SynthRLError) as err:
        check_plan(task, config, ["select", "train"])
    assert "max_grad_nrom (did you mean max_grad_norm?)" in str(err.value)
    assert "'tensorbaord' (did you mean tensorboard?)" in str(err.value)
    check_plan(task, config, ["select"])  # not training: nothing to refuse


def test_report_to_takes_every_trainer_tracker(monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers.integrations import integration_utils

    monkeypatch.setattr(
        integration_utils, "get_available_reporting_integrations", lambda: ["mlflow", "trackio"]
    )
    assert tracker_problems(["mlflow", "trackio"]) == []  # was: only tensorboard and wandb
    (missing,) = tracker_problems(["comet_ml"])
    assert "comet_ml, which is not installed: pip install its package" in missing
    (ours,) = tracker_problems(["wandb"])
    assert "pip install 'synthrl[tracking]'" in ours


def test_engine_args_reach_vllm(monkeypatch: pytest.MonkeyPatch) -> None:
    from synthrl.llm import registry

    seen = {}

    class Recorder:
        def __init__(self, model: str, seed: int, label: str, **engine_args: object) -> None:
            seen.update(model=model, label=label, **engine_args)

    monkeypatch.setattr("synthrl.llm.vllm_backend.VLLMBackend", Recorder)
    cfg = resolve_config(
        "paper", overrides={"llm": {"engine_args": {"tensor_parallel_size": 4, "dtype": "half"}}}
    )
    registry.open_backend("vllm:Qwen/Qwen2.5-7B", cfg.llm)
    assert seen["tensor_parallel_size"] == 4 and seen["dtype"] == "half"
    assert seen["max_model_len"] == cfg.llm.context
    assert seen["label"] != registry.vllm_label("Qwen/Qwen2.5-7B", {"max_model_len": 4096})

    from synthrl.evaluate.engines import eval_backend  # the evaluate stage's vLLM too

    seen.clear()
    eval_backend(cfg, "vllm", "/runs/x/train/model", "trained@abc")
    assert seen["tensor_parallel_size"] == 4 and seen["label"].startswith("trained@abc#ctx")
