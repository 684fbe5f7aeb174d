"""The bounded parse-retry helper: only failures are re-asked, each attempt is its own sample
(its own cache key, so a resumed run replays every attempt from the cache), and the bound holds."""

from __future__ import annotations

from pathlib import Path

from synthrl.llm import LLM, CallCache, Ledger, Request
from synthrl.llm.base import Result, Sample
from synthrl.llm.fake import FakeBackend
from synthrl.synthesis.retry import ask_parsed


def parse_int(result: Result) -> tuple[int | None, str]:
    text = result.texts[0]
    return (int(text), "ok") if text.isdigit() else (None, "not_a_number")


def replies(request: Request, index: int) -> str:
    """Prompt 'p<k>' answers 'no' until sample index k, then k; 'never' never answers."""
    prompt = request.messages[0][1]
    if prompt == "never":
        return "no"
    k = int(prompt[1:])
    return str(k) if index >= k else "no"


def llm(backend: FakeBackend, cache: CallCache) -> LLM:
    return LLM(backend, cache, Ledger(), "fake", show_progress=False)


def ask(prompts: list[str], generate, retries: int = 2, first: int = 0):
    requests = [
        Request.chat([{"role": "user", "content": p}], temperature=0.7, first_sample=first)
        for p in prompts
    ]
    return ask_parsed(generate, requests, parse_int, retries, desc="test")


def test_only_failures_are_reasked_with_a_new_sample_each_time(tmp_path: Path) -> None:
    backend = FakeBackend("fake", replies)
    model = llm(backend, CallCache(tmp_path / "c.sqlite"))
    out = ask(["p0", "p1", "p2", "never"], lambda r, desc: model.generate(r, "s", desc))
    assert out.values == {0: 0, 1: 1, 2: 2}
    assert out.after_retry == 2
    assert [(f.reason, f.text, f.attempt) for f in out.failures.values()] == [
        ("not_a_number", "no", 2)
    ]
    assert list(out.failures) == [3]
    # Attempt a asks for sample a; p0 is asked once, p1 twice, p2 and "never" three times.
    asked = [(r.messages[0][1], r.first_sample, r.n) for r in backend.calls]
    assert asked == [
        ("p0", 0, 1),
        ("p1", 0, 1),
        ("p2", 0, 1),
        ("never", 0, 1),
        ("p1", 1, 1),
        ("p2", 1, 1),
        ("never", 1, 1),
        ("p2", 2, 1),
        ("never", 2, 1),
    ]
    assert [(r.index, r.attempt, r.reason) for r in out.replies][:4] == [
        (0, 0, "ok"),
        (1, 0, "not_a_number"),
        (2, 0, "not_a_number"),
        (3, 0, "not_a_number"),
    ]


def test_resumed_run_replays_every_attempt_from_the_cache(tmp_path: Path) -> None:
    cache = CallCache(tmp_path / "c.sqlite")
    first = llm(FakeBackend("fake", replies), cache)
    before = ask(["p2", "never"], lambda r, desc: first.generate(r, "s", desc))
    fresh = FakeBackend("fake", replies)
    again = llm(fresh, cache)
    after = ask(["p2", "never"], lambda r, desc: again.generate(r, "s", desc))
    assert fresh.calls == [] and after.values == before.values == {0: 2}


def test_retries_are_bounded_and_start_at_first_sample() -> None:
    calls: list[list[Request]] = []

    def generate(requests: list[Request], desc: str) -> list[Result]:
        calls.append(list(requests))
        return [one_sample("no") for _ in requests]

    out = ask(["never"], generate, retries=3, first=8)
    assert [c[0].first_sample for c in calls] == [8, 9, 10, 11]
    assert out.values == {} and out.failures[0].attempt == 3 and out.after_retry == 0
    assert ask(["never"], generate, retries=0).failures[0].attempt == 0


def one_sample(text: str) -> Result:
    return Result(samples=[Sample(text)])
