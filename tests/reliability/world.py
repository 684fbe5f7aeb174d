"""A complete `synthrl run` on scripted fakes, in a process of its own: the reliability tests and
`bench/faults.py --quick` run the real CLI (lock, cache, stages, manifests) with fake models.

    python -m tests.reliability.world run TASK.yaml --out RUN --cache CACHE ...

`install()` registers a `fake:` model kind (`fake:instructor`, `fake:base`: the scripted models
below), and stands in for what needs real weights: the trainer (`FakeTrainer`: deterministic
"weights", a checkpoint per `train.save_steps` written as the Hugging Face Trainer writes them,
`trainer_state.json` last, resumed by the real `last_checkpoint` and `MetricsFile`), the
evaluation engine (a scripted model that the "training" made better) and, with `--rounds`, the
trained model a later round samples (`hf:RUN/train/model` holding FakeTrainer's weights).
`write_task(folder)` writes a task with a local library and evaluation file; `command(...)` is
the CLI arguments.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from synthrl.llm.base import Backend, Request
from synthrl.llm.fake import FakeBackend
from tests.fakes import ADDER_TASK, PASSAGES, addends, base_model, question

TASK = ADDER_TASK

EVAL_ITEMS = [
    {
        "id": f"e{i}",
        "question": question(i, i + 2),
        "answer": f"{i} + {i + 2} = {2 * i + 2}\n#### {2 * i + 2}",
    }
    for i in range(1, 9)
]

# Small settings for the `cpu` preset: every stage does real work in well under a second.
SETTINGS = [
    "generate.n=4",
    "verify.k=3",
    "retrieve.per_keyword=2",
    "select.m=2",
    "score.samples=8",
    "train.max_steps=4",
    "train.save_steps=1",
    "train.prompts_per_step=1",
    "train.warmup_epochs=0",  # no SFT warm-start: FakeTrainer stands in for GRPO only
    "evaluate.limit=8",
    "quality.min_parent_similarity=0",  # no MiniLM drift check: its load is ~10 s a run here
]


def instructor(request: Request, index: int) -> str:
    """The scripted instructor: keywords, one sample per passage, rewrites and votes."""
    prompt = request.messages[0][1] if request.messages else request.prompt or ""
    if prompt.startswith("You are an expert in the domain"):
        return '["fraction", "percentage", "apple"]'
    if prompt.startswith("As a Dataset Generator"):
        found = re.search(r"refer to: (\w+):", prompt)
        title = found.group(1) if found else "Apple"
        a = {"Fraction": 2, "Percentage": 3, "Addition": 4, "Apple": 5}.get(title, 6)
        b = 100 if title == "Addition" else 3
        return json.dumps({"input": question(a, b), "output": f"{a} + {b} = {a + b}\n#### {a + b}"})
    if "overly simplistic" in prompt or "too challenging" in prompt:
        a, b = addends(prompt)
        a, b = (a * 10, b * 7) if "overly simplistic" in prompt else (1, 1)
        return json.dumps({"input": question(a, b), "output": f"#### {a + b}"})
    a, b = addends(prompt)
    if a == 3:  # a disputed sample: the votes disagree and verify drops it
        return f"#### {a + b + index}"
    return f"{a} plus {b} is {a + b}.\n#### {a + b}"


def served(body: dict[str, Any], index: int) -> str:
    """The scripted instructor answering an OpenAI request body (for a loopback server)."""
    if "messages" in body:
        return instructor(Request.chat(body["messages"]), index)
    return instructor(Request(prompt=str(body.get("prompt", ""))), index)


def evaluated(request: Request, index: int, trained: bool) -> str:
    """The base model on the evaluation items; the "trained" one also solves the odd ones."""
    a, b = addends(request.messages[-1][1] if request.messages else request.prompt or "")
    right = trained or a % 2 == 0
    return f"So {a} + {b}.\n#### {a + b if right else a + b + 1}"


def trained_base(request: Request, index: int) -> str:
    """The model FakeTrainer "trained", as a later round's base (synthrl.rounds) samples it:
    solves sums below 100 always, below 1000 in one sample of three."""
    a, b = addends(request.messages[-1][1] if request.messages else request.prompt or "")
    right = a + b < 100 or (a + b < 1000 and index % 3 == 0)
    return f"So {a} + {b}.\n#### {a + b if right else a + b + 1}"


def backend(rest: str, cfg: Any) -> Backend:
    """The `fake:` model kind: `fake:instructor` or `fake:base`."""
    if rest == "instructor":
        return FakeBackend("fake:instructor", instructor)
    if rest == "base":
        return FakeBackend("fake:base", base_model)
    raise ValueError(f"no fake model {rest!r}")


class FakeTrainer:
    """`train_grpo`'s stand-in: `max_steps` steps of deterministic "weights" (a hash chain over
    the training rows), a metrics row per step (the rows after the resumed checkpoint dropped,
    as `MetricsFile` does), a checkpoint every `save_steps` (weights, then `trainer_state.json`
    last, as the Trainer writes them), resumed from the newest complete one; the final model is
    `model/weights.json`. It replaces the module `synthrl.train.trl_grpo`, whose import
    (transformers, peft) takes ~10 s here: too long to pay at every resume."""

    def __call__(
        self,
        model_path: str,
        rows: list[dict[str, Any]],
        cfg: Any,
        out_dir: Path,
        kind: str,
        *_: Any,
    ) -> dict[str, Any]:
        from synthrl.artifacts import write_jsonl

        steps = cfg.max_steps or 4
        resume = _last_checkpoint(out_dir)
        weights = hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()
        step = 0
        if resume:
            state = json.loads((Path(resume) / "weights.json").read_text(encoding="utf-8"))
            weights, step = state["weights"], state["step"]
        metrics = out_dir / "metrics.jsonl"
        if metrics.exists():  # as MetricsFile.on_train_begin: a line cut off by a kill is dropped
            write_jsonl(metrics, [r for r in _rows(metrics) if r["step"] <= step])
        while step < steps:
            step += 1
            weights = hashlib.sha256(f"{weights}:{step}".encode()).hexdigest()
            row = {"step": step, "loss": int(weights[:4], 16) / 65536, "reward": step / steps}
            with metrics.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(row) + "\n")
            if step % cfg.save_steps == 0:
                folder = out_dir / "checkpoints" / f"checkpoint-{step}"
                folder.mkdir(parents=True, exist_ok=True)
                state_text = json.dumps({"weights": weights, "step": step})
                (folder / "weights.json").write_text(state_text, encoding="utf-8")
                (folder / "trainer_state.json").write_text(
                    json.dumps({"global_step": step}), encoding="utf-8"
                )
        model = out_dir / "model"
        model.mkdir(parents=True, exist_ok=True)
        (model / "weights.json").write_text(
            json.dumps({"weights": weights, "step": step}), encoding="utf-8"
        )
        return {"steps": step, "resumed_from": resume, "train_loss": 0.0, "model": str(model)}


def _rows(path: Path) -> list[dict[str, Any]]:
    """The whole JSON lines of a metrics file."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows


def _last_checkpoint(out_dir: Path) -> str | None:
    """The newest checkpoint whose `trainer_state.json` (written last) is there and whole."""
    complete = []
    for folder in (out_dir / "checkpoints").glob("checkpoint-*"):
        try:
            json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        complete.append(folder)
    if not complete:
        return None
    return str(max(complete, key=lambda p: int(p.name.split("-")[-1])))


def load_trained(run_root: Path) -> dict[str, Any]:
    """The fake trained model (raises if missing or cut off)."""
    return json.loads((run_root / "train" / "model" / "weights.json").read_text(encoding="utf-8"))


def install() -> None:
    """Register the `fake:` kind and the stand-ins for training and the evaluation engine."""
    from synthrl import forecast
    from synthrl.llm import registry
    from synthrl.stages import evaluate, train

    registry.BACKENDS["fake"] = backend
    real_hf = registry.BACKENDS["hf"]

    def hf(rest: str, cfg: Any) -> Backend:  # a later round samples the model FakeTrainer wrote
        weights = Path(rest) / "weights.json"
        if not weights.is_file():
            return real_hf(rest, cfg)
        tag = hashlib.sha256(weights.read_bytes()).hexdigest()[:12]
        return FakeBackend(f"fake:trained@{tag}", trained_base)

    registry.BACKENDS["hf"] = hf
    forecast.gpu = lambda: False  # the fakes need none; the check imports torch (~4 s a run)
    train.trainable_path = lambda spec: f"weights-of-{spec}"  # type: ignore[assignment]
    evaluate.trainable_path = lambda spec: f"weights-of-{spec}"  # type: ignore[assignment]
    sys.modules["synthrl.train.trl_grpo"] = ModuleType("synthrl.train.trl_grpo")
    sys.modules["synthrl.train.trl_grpo"].train_grpo = FakeTrainer()  # type: ignore[attr-defined]

    def eval_backend(config: Any, engine: str, hf_dir: str, label: str, *_: Any) -> Backend:
        trained = hf_dir.endswith("model")
        return FakeBackend(label, lambda r, i: evaluated(r, i, trained))

    evaluate.eval_backend = eval_backend  # type: ignore[assignment]


def write_task(folder: Path) -> Path:
    """The task file, its passage library and its evaluation file in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "passages.jsonl").write_text("".join(json.dumps(p) + "\n" for p in PASSAGES))
    (folder / "eval.jsonl").write_text("".join(json.dumps(e) + "\n" for e in EVAL_ITEMS))
    path = folder / "task.yaml"
    path.write_text(TASK, encoding="utf-8")
    return path


def command(task: Path, out: Path, cache: Path, *extra: str) -> list[str]:
    """`synthrl run` arguments for the fake world (after `python -m tests.reliability.world`)."""
    args = ["run", str(task), "--preset", "cpu", "--out", str(out), "--cache", str(cache)]
    args += ["--instructor", "fake:instructor", "--base", "fake:base"]
    for setting in SETTINGS:
        args += ["--set", setting]
    return [*args, *extra]


def main(argv: list[str]) -> None:
    """Run the synthrl CLI with `argv` in the fake world."""
    install()
    from synthrl import cli

    sys.argv = ["synthrl", *argv]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
