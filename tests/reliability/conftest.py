"""The fuzz tests' tally: every hypothesis test under tests/reliability counts the inputs it
tried (generated, replayed and shrunk examples alike), and the session ends with one line per
property and a total, with the failing properties named:

    fuzz: 2,114 inputs tried over 13 properties, 0 failing

The count wraps each test's `hypothesis.inner_test` (hypothesis's documented hook for wrapping
the inner test function)."""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any

import pytest

TRIED: Counter[str] = Counter()
FAILED: set[str] = set()


def _counted(name: str, inner: Any) -> Any:
    @functools.wraps(inner)
    def run(*args: Any, **kwargs: Any) -> Any:
        TRIED[name] += 1
        return inner(*args, **kwargs)

    run._fuzz_counted = True  # type: ignore[attr-defined]
    return run


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        hypothesis = getattr(getattr(item, "obj", None), "hypothesis", None)
        if hypothesis is None or getattr(hypothesis.inner_test, "_fuzz_counted", False):
            continue
        name = f"{item.module.__name__.rsplit('.', 1)[-1]}::{item.originalname}"  # type: ignore[attr-defined]
        hypothesis.inner_test = _counted(name, hypothesis.inner_test)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed and "/reliability/test_fuzz" in report.nodeid.replace("\\", "/"):
        FAILED.add(report.nodeid.split("[")[0])


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TRIED:
        return
    write = terminalreporter.write_line
    total = sum(TRIED.values())
    write(
        f"fuzz: {total:,} inputs tried over {len(TRIED)} properties, {len(FAILED)} failing"
        + (": " + ", ".join(sorted(FAILED)) if FAILED else "")
    )
    if terminalreporter.config.getoption("verbose") > 0:
        for name, count in sorted(TRIED.items()):
            write(f"  {count:6,}  {name}")
