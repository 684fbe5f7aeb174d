"""One spelling for Hugging Face datasets everywhere: hf:NAME[:CONFIG][@SPLIT], passed to
`datasets.load_dataset` as (name, config, split) by the evaluation loader (and so
`evaluation.path`), `train.data` (split train by default) and `library.source`."""

from __future__ import annotations

from typing import Any

import pytest

from synthrl.errors import SynthRLError
from synthrl.hfdata import HFDataset, parse_hf, with_default_split


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("hf:openai/gsm8k:main@test", HFDataset("openai/gsm8k", "main", "test")),
        ("hf:openai/gsm8k:main", HFDataset("openai/gsm8k", "main", None)),
        ("hf:owner/name@validation", HFDataset("owner/name", None, "validation")),
        ("hf:squad", HFDataset("squad")),
    ],
)
def test_parse(spec: str, parsed: HFDataset) -> None:
    assert parse_hf(spec) == parsed and parsed.spec() == spec


@pytest.mark.parametrize("spec", ["hf:", "hf::main", "hf:a:b:c", "gsm8k"])
def test_bad_spellings_name_the_fix(spec: str) -> None:
    with pytest.raises(SynthRLError, match=r"hf:NAME\[:CONFIG\]\[@SPLIT\]"):
        parse_hf(spec)


def test_default_split_only_when_none_given() -> None:
    assert with_default_split("hf:openai/gsm8k:main", "train") == "hf:openai/gsm8k:main@train"
    assert with_default_split("hf:x@test", "train") == "hf:x@test"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """datasets.load_dataset stand-in: records (name, config, split) and yields two rows."""
    import datasets

    calls: list[tuple[Any, ...]] = []

    def load_dataset(name, config=None, split=None, streaming=False):
        calls.append((name, config, split))
        return iter([{"question": "1 + 1?", "answer": "#### 2"}, {"question": "q", "answer": "a"}])

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    return calls


def test_every_reader_passes_the_config(hub, write_task, tmp_path) -> None:
    from synthrl.evaluate.loaders import task_items
    from synthrl.task import load_task
    from synthrl.train.data import rows_from_file
    from tests.conftest import GOOD_TASK

    task = load_task(write_task(GOOD_TASK + "evaluation:\n  path: hf:openai/gsm8k:main\n"))
    items, source = task_items(task)
    assert len(items) == 2 and source == "hf:openai/gsm8k:main"
    rows_from_file(task, "hf:openai/gsm8k:main", {}, "grpo")
    from synthrl.retrieval.sources import resolve_source
    from synthrl.task import LibrarySpec

    source = resolve_source(LibrarySpec(source="hf:wiki/x:en", text_field="question"))
    assert len(list(source.documents())) == 2
    assert hub == [
        ("openai/gsm8k", "main", "test"),
        ("openai/gsm8k", "main", "train"),
        ("wiki/x", "en", "train"),
    ]
