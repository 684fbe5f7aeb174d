"""Property test: random and adversarial completions never raise, never hang, always get a verdict.

10,000 generated cases (unicode, deep braces, huge numbers, 100 KB completions, marker soup),
each through `extract`, `follows_format` and `judge` for a random kind; every call must finish
within the per-check timeout plus a small allowance for rebuilding the pool after a kill.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthrl.answers import KINDS, extract, follows_format, judge, majority_vote

TIMEOUT = 2.0
ALLOWANCE = 3.0  # pool rebuild after a timed-out check, and scheduling noise on 2 cores
OPTS = {
    "choice": {"options": {"A": "alpha", "B": "beta gamma", "C": "beta", "D": "∂elta"}},
    "label": {"labels": ["entailment", "neutral", "contradiction"]},
}

FRAGMENTS = [
    "\\boxed{", "\\fbox{", "}", "{", "\\frac", "\\frac12", "\\sqrt{", "^{", "####", "#### ",
    "<answer>", "</answer>", "< answer >", "The answer is ", "answer: ", "(B)", "B)", "B or C",
    "yes", "No", "entailment", "not neutral", "1,000", "-3", "0.50", "1/2", "1/0", "1e9999",
    "9" * 400, "\\$", "%", "$", "\\(", "\\)", "\\left(", "\\right)", "\\\\", "\n", " ", "=",
    "x^{x^{x^{x}}}", "(x+1)^{3000}", "\\infty", "[", ")", "∞", "−", "٣", "𝟘", "\x00", "\ud7ff",
    "\\begin{pmatrix}", "\\end{pmatrix}", "&", "\\text{", "π", "\\pi", "beta gamma", "∂elta",
]  # fmt: skip

fragment = st.sampled_from(FRAGMENTS)
soup = st.lists(st.one_of(fragment, st.text(max_size=8)), max_size=40).map("".join)
deep_braces = st.builds(
    lambda n, m, core: "\\boxed{" + "{" * n + core + "}" * m,
    st.integers(0, 20_000),
    st.integers(0, 20_000),
    st.text(max_size=10),
)
huge_number = st.builds(
    lambda digits, sep: "#### " + sep.join(["1234567890"] * digits),
    st.integers(1, 5_000),
    st.sampled_from(["", ",", ".", " "]),
)
big = st.builds(lambda piece, n: (piece * n)[:100_000], soup, st.integers(1, 100_000))
completions = st.one_of(st.text(max_size=300), soup, deep_braces, huge_number, big)
golds = st.one_of(fragment, st.text(max_size=20), st.sampled_from(["18", "B", "yes", "\\frac12"]))


@settings(
    max_examples=10_000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(completion=completions, gold=golds, kind=st.sampled_from(KINDS))
def test_never_raises_never_hangs(completion: str, gold: str, kind: str) -> None:
    opts = {**OPTS.get(kind, {}), "timeout": TIMEOUT}
    start = time.monotonic()
    answer = extract(completion, kind, **opts)
    assert answer is None or isinstance(answer, str)
    assert isinstance(follows_format(completion, kind, **opts), bool)
    assert isinstance(judge(completion, gold, kind, **opts), bool)
    assert time.monotonic() - start < TIMEOUT + ALLOWANCE


@settings(max_examples=200, deadline=None, database=None)
@given(
    votes=st.lists(st.one_of(soup, st.text(max_size=50)), max_size=16), kind=st.sampled_from(KINDS)
)
def test_vote_never_raises(votes: list[str], kind: str) -> None:
    vote = majority_vote(votes, kind, **OPTS.get(kind, {}), timeout=TIMEOUT)
    assert vote.total == len(votes) and 0 <= vote.votes <= vote.parsed <= vote.total
    assert 0.0 <= vote.agreement <= 1.0


def test_pathological_inputs_directly() -> None:
    cases = [
        "\\boxed{" * 50_000,
        "{" * 100_000,
        "}" * 100_000,
        "\\boxed{" + "{" * 50_000 + "}" * 50_000,
        "#### " + "9" * 100_000,
        "1," * 50_000,
        "<answer>" * 20_000,
        "The answer is " * 7_000,
        "(B) " * 25_000,
        "a" * 100_000,
        "entailment neutral " * 5_000,
    ]
    for completion in cases:
        for kind in KINDS:
            opts = {**OPTS.get(kind, {}), "timeout": TIMEOUT}
            start = time.monotonic()
            judge(completion, "1", kind, **opts)
            follows_format(completion, kind, **opts)
            assert time.monotonic() - start < TIMEOUT + ALLOWANCE, (kind, completion[:30])
