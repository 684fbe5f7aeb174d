"""`synthrl compare` on three hand-written run directories (run.json, task.yaml, manifests,
evaluate/results.json and predictions.jsonl in the pipeline's format): the methods derived from
each configuration, the accuracies, the paired tests against the reference run (McNemar
wins/losses/p by hand, the paired bootstrap), the Markdown and CSV outputs, and the refusals
(other items, another benchmark, no finished evaluation) with their exit codes."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from synthrl.cli import main
from synthrl.config import resolve_config
from synthrl.errors import SynthRLError
from synthrl.evaluate.compare_runs import compare_runs, method_of
from synthrl.evaluate.metrics import bootstrap_diff, wilson
from tests.conftest import GOOD_TASK

# Ten items, strict verdicts per item (one greedy run each).
REF = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
BETTER = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]  # 3 wins, 0 losses vs REF
MIXED = [0, 0, 1, 1, 1, 0, 0, 0, 0, 1]  # 1 win, 2 losses vs REF
BASE = [0, 0, 0, 1, 1, 0, 0, 0, 0, 0]  # 0 wins, 3 losses vs REF
REF_LENIENT = [1, 1, 1, 1, 1, 1, 0, 0, 0, 0]
IDS = [f"gsm8k-{i}" for i in range(10)]


def summary(strict: list[int], lenient: list[int] | None = None) -> dict[str, Any]:
    """An evaluate summary as synthrl.evaluate.runner.summarise writes it (one greedy run)."""
    lenient = strict if lenient is None else lenient
    n = len(strict)
    return {
        "items": n,
        "seeds": [0],
        "lenient_mean": sum(lenient) / n,
        "lenient_std": 0.0,
        "strict_mean": sum(strict) / n,
        "strict_std": 0.0,
        "lenient_wilson": list(wilson(sum(lenient), n)),
        "strict_wilson": list(wilson(sum(strict), n)),
        "truncated_share": 0.0,
        "lenient_by_item": [float(x) for x in lenient],
        "strict_by_item": [float(x) for x in strict],
        "sampler": {},
    }


def write_run(
    root: Path,
    name: str,
    trained: dict[str, Any],
    overrides: dict[str, Any] | None = None,
    ids: list[str] = IDS,
    source: str = "benchmark gsm8k",
    evaluated: bool = True,
) -> Path:
    run = root / name
    task = root / "task.yaml"
    task.write_text(GOOD_TASK)
    config = resolve_config("cpu", overrides=overrides or {})
    run.mkdir(parents=True)
    info = {"task_file": str(task), "task": "arith", "preset": "cpu", "config": config.model_dump()}
    (run / "run.json").write_text(json.dumps(info))
    (run / "select").mkdir()
    (run / "select" / "manifest.json").write_text(json.dumps({"counts": {"selected": 8}}))
    if not evaluated:
        return run
    folder = run / "evaluate"
    folder.mkdir()
    settings = {"evaluate": config.evaluate.model_dump()}
    (folder / "manifest.json").write_text(json.dumps({"stage": "evaluate", "settings": settings}))
    base = summary(BASE[: len(ids)])
    results = {"engine": "llamacpp", "base": base, "trained": trained, "source": source}
    (folder / "results.json").write_text(json.dumps(results))
    rows = [
        {"model": model, "id": i, "gold": str(k), "seed": 0, "correct": True, "strict": True}
        for model in ("base", "trained")
        for k, i in enumerate(ids)
    ]
    (folder / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return run


@pytest.fixture
def runs(tmp_path: Path) -> list[Path]:
    return [
        write_run(tmp_path, "default", summary(REF, REF_LENIENT)),
        write_run(tmp_path, "no-adapt", summary(BETTER), {"adapt": {"enabled": False}}),
        write_run(
            tmp_path,
            "self-instruct",
            summary(MIXED),
            {
                "retrieve": {"enabled": False},
                "select": {"strategy": "easy"},
                "score": {"adaptive": False},
            },
        ),
    ]


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """`synthrl ARGS` through the real entry point (errors become exit codes)."""
    argv = sys.argv
    sys.argv = ["synthrl", *args]
    try:
        with pytest.raises(SystemExit) as exited:
            main()
    finally:
        sys.argv = argv
    out = capsys.readouterr()
    return int(exited.value.code or 0), out.out, out.err


def test_rows_and_paired_numbers(runs: list[Path]) -> None:
    c = compare_runs(runs, bench="gsm8k")
    assert (c.reference, c.items, c.source) == ("default", 10, "benchmark gsm8k")
    assert [(r.run, r.model, r.method) for r in c.rows] == [
        ("default", "base", "base model (embedded:base)"),
        ("default", "trained", "synthrl (default)"),
        ("no-adapt", "trained", "no adaptation"),
        ("self-instruct", "trained", "no retrieval, select=easy"),
    ]
    base, ref, better, mixed = c.rows
    assert ref.paired is None and (ref.instructor, ref.m) == ("embedded:instructor", "8")
    assert ref.accuracy["lenient"]["mean"] == pytest.approx(0.6)
    assert better.accuracy["strict"]["ci"] == pytest.approx(list(wilson(8, 10)))
    # (verdicts, diff, wins, losses, exact two-sided McNemar p) against REF, strict
    expected = ((BASE, -0.3, 0, 3, 0.25), (BETTER, 0.3, 3, 0, 0.25), (MIXED, -0.1, 1, 2, 1.0))
    for row, (verdicts, diff, wins, losses, p) in zip((base, better, mixed), expected, strict=True):
        s = row.paired["strict"]
        assert (s["wins"], s["losses"]) == (wins, losses)
        assert s["diff"] == pytest.approx(diff) and s["mcnemar_p"] == pytest.approx(p)
        assert s["diff_ci"] == pytest.approx(list(bootstrap_diff(REF, verdicts)))
        assert s["diff_ci"][0] <= diff <= s["diff_ci"][1]
    # lenient is paired on the lenient verdicts: REF_LENIENT has item 6 right too
    assert (better.paired["lenient"]["wins"], better.paired["lenient"]["losses"]) == (2, 0)


def test_method_names_synthrls_own_switches_and_other_steps() -> None:
    def method(overrides: dict[str, Any]) -> str:
        return method_of(resolve_config("cpu", {}, overrides), 0)

    assert method({}) == "synthrl (default)"
    assert method({"train": {"max_steps": 4}}) == "synthrl (default)"  # the cpu preset's
    assert method({"rounds": 2}) == "2 rounds"
    skip = {"max_steps": 12, "skip_settled": True, "settle_window": 1}
    assert method({"train": skip}) == "skip settled (window 1), 12 steps"
    assert method({"adapt": {"enabled": False}, "rounds": 3}) == "no adaptation, 3 rounds"


def test_reference_option_pairs_against_that_run(runs: list[Path]) -> None:
    c = compare_runs(runs, reference=runs[1])
    rows = {r.run: r for r in c.rows if r.model == "trained"}
    assert c.reference == "no-adapt" and rows["no-adapt"].paired is None
    assert (
        rows["default"].paired["strict"]["wins"],
        rows["default"].paired["strict"]["losses"],
    ) == (
        0,
        3,
    )


def test_cli_markdown_and_csv(runs: list[Path], capsys) -> None:
    code, out, _ = cli(capsys, "compare", *map(str, runs), "--format", "markdown")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Accuracy (%) on 10 items of benchmark gsm8k")
    assert lines[2].startswith("| run | method | instructor | M | strict | Δ strict |")
    assert "| no-adapt | no adaptation | embedded:instructor | 8 | 80.0 ± 0.0 [49.0, 94.3] |" in out
    assert "| +30.0 [" in out and "| 3 / 0 (p=0.25) |" in out and "| reference |" in out

    code, out, _ = cli(capsys, "compare", *map(str, runs), "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["run"] for r in rows] == ["default", "default", "no-adapt", "self-instruct"]
    mixed = rows[3]
    assert (mixed["strict_wins"], mixed["strict_losses"], mixed["strict_mcnemar_p"]) == (
        "1",
        "2",
        "1.0",
    )
    assert float(mixed["strict_diff"]) == pytest.approx(-0.1) and rows[1]["strict_diff"] == ""

    code, out, _ = cli(capsys, "compare", *map(str, runs))
    assert code == 0 and "Wilson interval" in " ".join(out.split())


def test_other_items_are_refused(tmp_path: Path, runs: list[Path], capsys) -> None:
    shifted = write_run(tmp_path, "other", summary(REF), ids=[*IDS[:9], "gsm8k-99"])
    with pytest.raises(SynthRLError, match=r"different items .*item 10: id 'gsm8k-9'"):
        compare_runs([runs[0], shifted])
    shorter = tmp_path / "short"
    write_run(tmp_path, "short", summary(REF[:9]), ids=IDS[:9])
    code, _, err = cli(capsys, "compare", str(runs[0]), str(shorter))
    assert code == 1 and "10 vs 9 items" in " ".join(err.split())


def test_unevaluated_run_and_other_benchmark_are_refused(
    tmp_path: Path, runs: list[Path], capsys
) -> None:
    pending = write_run(tmp_path, "pending", summary(REF), evaluated=False)
    code, _, err = cli(capsys, "compare", str(runs[0]), str(pending))
    assert code == 1 and "no finished evaluate stage" in " ".join(err.split())
    code, _, err = cli(capsys, "compare", *map(str, runs), "--bench", "math500")
    assert code == 1 and "not every run was evaluated on benchmark math500" in " ".join(err.split())
    code, _, err = cli(capsys, "compare", str(runs[0]), "--format", "html")
    assert code == 2 and "--format 'html'" in err


def test_unreadable_results_are_refused(runs: list[Path], capsys) -> None:
    results = runs[1] / "evaluate" / "results.json"
    results.write_text('{"trained": ')
    code, _, err = cli(capsys, "compare", *map(str, runs))
    assert code == 1 and "cannot be read" in err
    results.write_text(json.dumps({"skipped": "no evaluation set declared"}))
    code, _, err = cli(capsys, "compare", *map(str, runs))
    assert code == 1 and "no evaluation set declared" in " ".join(err.split())
    results.write_text(json.dumps({"base": summary(BASE), "trained": {"seeds": [0]}}))
    code, _, err = cli(capsys, "compare", *map(str, runs))
    assert code == 1 and "trained lacks strict_mean" in " ".join(err.split())
    results.write_text(json.dumps({"base": summary(BASE), "trained": summary(BETTER[:9])}))
    code, _, err = cli(capsys, "compare", *map(str, runs))
    assert code == 1 and "disagree on the number of items" in " ".join(err.split())
