"""`synthrl run` before and during spending: the forecast stops a run far beyond the machine
before any model call (unless --yes), and `llm.budget_usd` stops a run before the call that
could cross it; raised, the run resumes from the cache with nothing paid twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from synthrl import forecast as fc_module
from synthrl.errors import SynthRLError
from synthrl.llm import LLM
from synthrl.llm.fake import FakeBackend
from synthrl.run import RunOptions, run_task
from tests.fakes import PASSAGES, base_model
from tests.stages.test_synthesis import TASK, instructor


class Spy:
    """Opens fake models priced as `fake-api` and counts the completions they generate."""

    def __init__(self) -> None:
        self.generated = 0

    def open_llm(self, spec, cfg, cache, ledger, show_progress=True, budget=None) -> LLM:
        responder = base_model if spec.startswith("hf:") else instructor

        def counted(request, index):
            self.generated += 1
            return responder(request, index)

        backend = FakeBackend("fake-api", responder=counted)
        return LLM(backend, cache, ledger, spec, False, budget)


@pytest.fixture
def task_file(tmp_path: Path) -> Path:
    library = tmp_path / "passages.jsonl"
    library.write_text("".join(json.dumps(p) + "\n" for p in PASSAGES))
    path = tmp_path / "task.yaml"
    path.write_text(TASK.format(library=library, demos=""))
    return path


def options(task_file: Path, out: Path, *extra: str, **kw) -> RunOptions:
    prices = task_file.parent / "prices.yaml"
    prices.write_text("fake-api: {input: 1000, output: 1000}\n")  # $0.001 a token
    overrides = [
        "models.base=hf:fake-base",
        "generate.n=4",
        "verify.k=3",
        "retrieve.per_keyword=2",
        f"llm.prices_file={prices}",
        *extra,
    ]
    return RunOptions(
        task_file, out, "cpu", overrides=overrides, stop="verify",
        cache_path=out.parent / f"{out.name}-calls.sqlite", **kw,
    )  # fmt: skip


def spent(run_dir: Path) -> list[float]:
    rows = json.loads((run_dir / "usage.json").read_text())
    return [row["cost_usd"] for row in rows]


def test_budget_stops_before_crossing_and_resumes_without_repaying(
    task_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    console = Console(file=open(tmp_path / "out.txt", "w"), width=200)  # noqa: SIM115
    clean = Spy()
    monkeypatch.setattr("synthrl.run.open_llm", clean.open_llm)
    run_task(options(task_file, tmp_path / "clean"), console, show_progress=False)
    full_cost = sum(spent(tmp_path / "clean"))
    assert clean.generated > 10 and full_cost > 0

    spy = Spy()
    monkeypatch.setattr("synthrl.run.open_llm", spy.open_llm)
    budget = round(full_cost / 2, 4)
    with pytest.raises(SynthRLError, match="budget reached"):
        run_task(options(task_file, tmp_path / "r", f"llm.budget_usd={budget}"), console, False)
    first = spy.generated
    assert 0 < first < clean.generated
    assert sum(spent(tmp_path / "r")) <= budget  # stopped before crossing it
    # Raised: the run goes on from the cache; every completion is generated exactly once.
    run_task(options(task_file, tmp_path / "r", "llm.budget_usd=1000"), console, False)
    assert spy.generated == clean.generated
    assert sum(spent(tmp_path / "r")) == pytest.approx(full_cost)


def test_budget_with_an_unknown_price_refuses_before_calling(
    task_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy()
    monkeypatch.setattr("synthrl.run.open_llm", spy.open_llm)
    opts = options(task_file, tmp_path / "r", "llm.budget_usd=1")
    opts.overrides = [o for o in opts.overrides if not o.startswith("llm.prices_file")]
    opts.overrides.append("llm.prices_file=null")

    class Unpriced(FakeBackend):
        free = False

    def open_unpriced(spec, cfg, cache, ledger, show_progress=True, budget=None) -> LLM:
        return LLM(Unpriced("fake-api", responder=instructor), cache, ledger, spec, False, budget)

    monkeypatch.setattr("synthrl.run.open_llm", open_unpriced)
    with pytest.raises(SynthRLError, match="price of 'fake-api' is unknown"):
        run_task(opts, Console(file=open(tmp_path / "o.txt", "w")), False)  # noqa: SIM115


def test_forecast_far_beyond_the_machine_stops_before_any_call(
    task_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy()
    monkeypatch.setattr("synthrl.run.open_llm", spy.open_llm)
    monkeypatch.setattr(fc_module, "STOP_HOURS", 0.0)  # any plan is "too long"
    console = Console(file=open(tmp_path / "out.txt", "w"), width=200)  # noqa: SIM115
    out = tmp_path / "r"
    with pytest.raises(SynthRLError, match=r"--preset cpu.*--yes"):
        run_task(options(task_file, out), console, False)
    assert spy.generated == 0 and not out.exists()
    assert "forecast (estimates)" in (tmp_path / "out.txt").read_text()
    run_task(options(task_file, out, yes=True), console, False)  # --yes proceeds
    assert spy.generated > 0 and (out / "verify" / "manifest.json").exists()


def test_paper_preset_on_the_embedded_cpu_models_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`synthrl run examples/tasks/gsm8k.yaml` (no preset: paper) on a CPU."""
    from tests.conftest import EXAMPLES

    spy = Spy()
    monkeypatch.setattr("synthrl.run.open_llm", spy.open_llm)
    monkeypatch.setattr(fc_module, "gpu", lambda: False)
    console = Console(file=open(tmp_path / "out.txt", "w"), width=200)  # noqa: SIM115
    out = tmp_path / "r"
    with pytest.raises(SynthRLError, match=r"nothing was run: the forecast is [\d,]+ hours"):
        run_task(RunOptions(EXAMPLES / "gsm8k.yaml", out), console, False)
    assert spy.generated == 0 and not out.exists()


def test_forecast_above_the_budget_is_said_up_front(task_file: Path, tmp_path: Path) -> None:
    import io

    from synthrl.run import check_forecast, prepare_run

    out = io.StringIO()
    opts = RunOptions(task_file, tmp_path / "r", "cpu", stop="keywords")
    for budget, said in ((1e-6, True), (100.0, False)):
        opts.overrides = ["models.instructor=openai:gpt-4o", f"llm.budget_usd={budget}"]
        task, config, run = prepare_run(opts)
        out.seek(0), out.truncate()
        check_forecast(opts, task, config, run, Console(file=out, width=200))
        assert ("is above llm.budget_usd" in out.getvalue()) is said
