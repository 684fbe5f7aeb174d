"""Prices and what the user sees of them: the user's price file over genai-prices' maintained
table; local models free; an unknown price shown as unknown, never as $0.0000 (tables, progress
bars); the progress bar's ETA, token and USD columns; vLLM engine_args in cache names."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from synthrl.llm import LLM, Ledger, Request
from synthrl.llm.client import bar_fields, progress_bar
from synthrl.llm.fake import FakeBackend
from synthrl.llm.registry import pricing, vllm_label
from synthrl.llm.usage import Usage, format_usd
from synthrl.report.tables import usage_table


def test_price_sources_in_order() -> None:
    ledger = Ledger({"gpt-4o": (1.0, 1.0)})
    assert ledger.price("gpt-4o", 10**6, 0, {"provider_id": "openai"}) == pytest.approx(1.0)
    table = Ledger().price("gpt-4o", 10**6, 10**6, {"provider_id": "openai"})
    assert table == pytest.approx(12.5)  # genai-prices: $2.50 in, $10 out per 1M
    assert Ledger().price("my-local-model", 100, 100, None, free=True) == 0.0
    assert (
        Ledger().price("my-model", 100, 100, {"provider_api_url": "http://127.0.0.1:9/v1"}) is None
    )
    assert pricing("openai:http://h:1/v1#qwen") == (
        "qwen",
        {"provider_api_url": "http://h:1/v1"},
        False,
    )
    assert pricing("embedded:base")[2] is True


def test_unknown_cost_is_never_zero_dollars() -> None:
    assert format_usd(0.0, 0) == "$0.0000"
    assert format_usd(0.0, 120) == "unknown"
    assert format_usd(0.5, 120) == "$0.5000 + unknown"

    class Api(FakeBackend):
        free = False  # an API model whose price nobody knows

    ledger = Ledger()
    LLM(Api("mystery-model", responder=lambda r, i: "ok"), None, ledger, "m", False).generate(
        [Request(prompt="hello")], stage="t"
    )
    assert ledger.total().usd == "unknown"
    out = io.StringIO()
    Console(file=out, width=200).print(usage_table(ledger))
    assert "unknown" in out.getvalue() and "0.0000" not in out.getvalue()
    assert Usage(cost_usd=0.25).usd == "$0.2500"


def test_progress_bar_shows_eta_tokens_and_usd() -> None:
    bar = progress_bar(transient=False)
    task = bar.add_task("verify", total=4, **bar_fields(1234, "unknown"))
    bar.update(task, advance=1)
    plain = bar.add_task("indexing", total=2)  # tasks without the fields render too
    bar.update(plain, advance=1)
    out = io.StringIO()
    Console(file=out, width=200).print(bar.make_tasks_table(bar.tasks))
    text = out.getvalue()
    assert "1,234 tok" in text and "unknown" in text and "eta" in text


def test_engine_args_that_change_answers_name_the_cache_entry() -> None:
    plain = vllm_label("Qwen/Qwen2.5-7B", {"max_model_len": 4096})
    fast = vllm_label("Qwen/Qwen2.5-7B", {"max_model_len": 4096, "gpu_memory_utilization": 0.5})
    other = vllm_label("Qwen/Qwen2.5-7B", {"max_model_len": 4096, "dtype": "float16"})
    assert plain == fast == "Qwen/Qwen2.5-7B#ctx4096" and other != plain


@pytest.mark.parametrize(
    ("free", "prices", "usd"),
    [
        (False, {}, "unknown"),  # an API model nobody priced: never $0.0000
        (False, {"api-model": (1000.0, 1000.0)}, "$0.0060"),  # 3 prompt + 3 completion tokens
        (True, {}, ""),  # a local model: no USD column at all
    ],
)
def test_generate_fills_the_bar_with_tokens_and_usd(
    monkeypatch: pytest.MonkeyPatch, free: bool, prices: dict, usd: str
) -> None:
    import synthrl.llm.client as client

    bars = []

    def recorded(transient: bool = True):
        bars.append(progress_bar(transient=False))
        bars[-1].live.console.file = io.StringIO()  # keep the test's output clean
        return bars[-1]

    class Model(FakeBackend):
        pass

    Model.free = free
    monkeypatch.setattr(client, "progress_bar", recorded)
    llm = LLM(Model("api-model", responder=lambda r, i: "one two three"), None, Ledger(prices),
              "m", show_progress=True)  # fmt: skip
    llm.generate([Request(prompt="a b c")], stage="t")
    (task,) = bars[0].tasks
    assert task.completed == task.total == 1
    assert task.fields == {"tokens": "3 tok", "usd": usd}


def test_progress_writes_plain_lines_when_not_a_terminal(capsys: pytest.CaptureFixture) -> None:
    """In a log file rich draws nothing until the end: the bar writes lines to stderr instead,
    throttled, and exactly one line when a task finishes."""
    bar = progress_bar()
    bar.log_every = 3600.0  # nothing but the final line
    task = bar.add_task("audit: votes", total=3, **bar_fields(0))
    for _ in range(3):
        bar.update(task, advance=1, **bar_fields(120))
    bar.update(task, advance=0)  # updates after the end write nothing more
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("audit: votes: 3/3 elapsed 0:00:00")
    assert "120 tok" in lines[0] and "eta" not in lines[0]

    bar.log_every = 0.0  # every update writes a line
    other = bar.add_task("probe", total=4)
    bar.advance(other, 1)
    bar.advance(other, 1)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" elapsed")[0] for line in lines] == ["probe: 1/4", "probe: 2/4"]

    lasting = progress_bar(transient=False)  # rich writes its final state: no second line
    lasting.log_every = 0.0
    step = lasting.add_task("train", total=2)
    lasting.advance(step, 1)
    lasting.advance(step, 1)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" elapsed")[0] for line in lines] == ["train: 1/2"]
