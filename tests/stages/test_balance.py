"""Balance by design on a scripted fake instructor (issue 21): each generation request of a
label / yes-no / choice task names a target, cycled; the verified label (the vote), not the
target, is the sample's label; the `paper` preset and `generate.balance=false` send the paper's
Figure 6 prompt; the content checks drop bad inputs with counted reasons; `synthrl status` and
the report show the label counts."""

from __future__ import annotations

import json
import re
from pathlib import Path

from rich.console import Console

from synthrl import prompts as prompts_module
from synthrl.artifacts import RunDir
from synthrl.config import resolve_config
from synthrl.llm import LLM, CallCache, Ledger, Request
from synthrl.llm.fake import FakeBackend
from synthrl.pipeline import ModelPool, run_pipeline, write_run_info
from synthrl.prompts import generate_messages
from synthrl.report.data import RunData
from synthrl.report.quality import distributions, quality
from synthrl.report.tables import status_table
from synthrl.run import load_status
from synthrl.stages import STAGES
from synthrl.synthesis.balance import label_counts, largest_share, target_counts
from synthrl.task import load_task
from tests.fakes import PASSAGES

TASK = """\
name: reviews
description: Classify the opinion of a short customer review as positive, negative or neutral.
input_format: A customer review of two to four sentences.
output_format: "Give the label as <answer>positive</answer>, negative or neutral."
answer: {{kind: label, labels: [positive, negative, neutral]}}
keywords: [apple]
library: {{source: {library}, text_field: text, title_field: title}}
"""
TARGET = re.compile(r"must be '(\w+)'")
REVIEWS = {
    "positive": "The {t} stall was friendly and the fruit was fresh and sweet, I will come back.",
    "negative": "The {t} stall sold me bruised fruit and the seller was rude, never again.",
    "neutral": "I bought some fruit at the {t} stall on Monday; it cost four dollars.",
}


def instructor(request: Request, index: int, leak: int | None = None) -> str:
    """Writes a review of the asked sentiment, except that it calls every neutral review
    positive in its output (the vote relabels them), and leaks its reasoning as the input of
    sample index `leak`."""
    prompt = request.messages[0][1]
    if prompt.startswith("You are an expert in the domain"):
        return '["apple"]'
    if prompt.startswith("As a Dataset Generator"):
        title = re.search(r"refer to: (\w+):", prompt).group(1)
        found = TARGET.search(prompt)
        target = found.group(1) if found else "positive"
        text = REVIEWS[target].format(t=f"{title} {index}")
        if index == leak:
            text = f"<think>The user wants a {target} review.</think> {text}"
        output = "positive" if target == "neutral" else target
        return json.dumps({"input": text, "output": f"<answer>{output}</answer>"})
    review = prompt.split("\n\n")[1]
    sentiment = next(s for s, t in REVIEWS.items() if t.split("{t}")[1] in review)
    return f"<answer>{sentiment}</answer>"


def run_reviews(
    tmp_path: Path, preset: str = "cpu", stop: str = "verify", leak: int | None = None, **overrides
):
    tmp_path.mkdir(parents=True, exist_ok=True)
    library = tmp_path / "passages.jsonl"
    library.write_text("".join(json.dumps(p) + "\n" for p in PASSAGES))
    task_path = tmp_path / "task.yaml"
    task_path.write_text(TASK.format(library=library))
    task = load_task(task_path)
    settings = {
        "models": {"base": "hf:fake-base"},
        "generate": {"n": 6, "max_tokens": 200},
        "verify": {"k": 3},
        "retrieve": {"per_keyword": 4},
        **overrides,
    }
    config = resolve_config(preset, overrides=settings)
    inst = FakeBackend("inst", lambda request, index: instructor(request, index, leak))
    ledger, cache = Ledger(), CallCache(tmp_path / "calls.sqlite")
    pool = ModelPool(config, lambda spec: LLM(inst, cache, ledger, spec, show_progress=False))
    run = RunDir(tmp_path / "run")
    write_run_info(run, task_path, task, config)
    run_pipeline(STAGES, task, config, run, pool, ledger, stop=stop)
    prompts = [r.messages[0][1] for r in inst.calls if "Dataset Generator" in r.messages[0][1]]
    return run, task, prompts


def test_targets_cycle_and_the_vote_keeps_the_label(tmp_path: Path) -> None:
    # One passage: request i is sample index 3 i (attempt 0, then two parse retries).
    run, _, prompts = run_reviews(tmp_path, leak=3)
    asked = [TARGET.search(p).group(1) for p in prompts]
    # 6 requests cycle over the labels in order; request 1's <think> reply is dropped and
    # topped up by request 6 (the next target of the cycle).
    assert asked == ["positive", "negative", "neutral"] * 2 + ["positive"]
    generated = run.rows("generate", "samples.jsonl")
    kept = ["positive", "neutral", "positive", "negative", "neutral", "positive"]
    assert [s["target"] for s in generated] == kept
    dropped = run.rows("generate", "dropped.jsonl")
    assert [(d["reason"], d["evidence"]) for d in dropped] == [("reasoning_in_input", "<think>")]
    assert run.manifest("generate")["drops"] == {"reasoning_in_input": 1}
    verified = run.rows("verify", "samples.jsonl")
    assert all(s["label"] == s["target"] for s in verified)  # the fake's reviews match
    neutral = [s for s in verified if s["target"] == "neutral"]
    # The generator called them positive: the vote's label stays, and the row says so.
    assert neutral and all(not s["generator_agrees"] for s in neutral)
    assert run.manifest("verify")["counts"]["relabeled"] == len(neutral)


def test_paper_preset_and_balance_off_send_the_papers_prompt(tmp_path: Path) -> None:
    for folder, preset, balance in (("paper", "paper", "auto"), ("off", "cpu", False)):
        run, task, prompts = run_reviews(
            tmp_path / folder, preset, stop="generate", generate={"n": 3, "balance": balance}
        )
        assert prompts and not any("must be" in p for p in prompts)
        assert "target" not in run.rows("generate", "samples.jsonl")[0]
        # Figure 6 as sent before balance existed: the template without the target slot.
        paper = prompts_module.GENERATE.replace("{target}", "").format(
            description=task.description,
            input_format=task.input_format,
            output_format=task.output_format,
            pattern_and_demos="",
            passage="Apple: An apple is a fruit; farmers sell apples at markets by the dozen.",
        )
        assert prompts[0] == paper
    run, _, prompts = run_reviews(
        tmp_path / "forced", "paper", stop="generate", generate={"n": 3, "balance": True}
    )
    assert [TARGET.search(p).group(1) for p in prompts] == ["positive", "negative", "neutral"]


def test_choice_targets_are_option_letters(tmp_path: Path) -> None:
    task_path = tmp_path / "choice.yaml"
    task_path.write_text(
        "name: quiz\ndescription: Answer a four-option science question.\n"
        "output_format: Give the letter as <answer>X</answer>.\n"
        "answer: {kind: choice, letters: ABCD}\n"
    )
    task = load_task(task_path)
    text = generate_messages(task, "Passage.", None, "C")[0]["content"]
    assert "must be option C" in text and "put the correct one at option C" in text
    assert text.index("Passage.") < text.index("option C") < text.index("Before generating")


def test_status_and_report_show_the_label_counts(tmp_path: Path) -> None:
    run, _, _ = run_reviews(tmp_path)
    counts = distributions(RunData(run.root))
    assert counts["asked"] == {"positive": 2, "negative": 2, "neutral": 2}
    assert counts["verified"] == counts["asked"]
    console = Console(width=250, record=True)
    console.print(status_table(run.root, load_status(run.root)))
    shown = console.export_text()
    assert "targets: positive 2, negative 2, neutral 2" in shown
    assert "labels: positive 2, negative 2, neutral 2" in shown
    html = quality(RunData(run.root))
    assert "Balance by design: on" in html and "largest share" in html
    assert "No sample was dropped" in html
    assert "relabelled 2 (33%)" in html and "6 of 6 (100%) met their target" in html
    assert "No label audit" in html


def test_label_counts_keep_the_tasks_order_and_show_other_labels() -> None:
    rows = [{"label": "b"}, {"label": "x"}, {"label": "b"}, {"label": None}, {"target": "a"}]
    counts = label_counts(rows, ["a", "b"])
    assert list(counts.items()) == [("a", 0), ("b", 2), ("x", 1)]
    assert largest_share(counts) == 2 / 3 and largest_share({}) == 0.0
    assert target_counts(rows, ["a", "b"]) == {"a": 1, "b": 0}
