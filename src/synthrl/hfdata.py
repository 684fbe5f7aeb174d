"""One spelling for Hugging Face datasets everywhere a data source is named (evaluation sets,
`evaluation.path`, `train.data`, `library.source`): `hf:NAME[:CONFIG][@SPLIT]`, e.g.
`hf:openai/gsm8k:main@test`. Rows are streamed with `datasets.load_dataset`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from synthrl.errors import SynthRLError

PREFIX = "hf:"
SPELLING = "hf:NAME[:CONFIG][@SPLIT], e.g. hf:openai/gsm8k:main@test"


@dataclass(frozen=True)
class HFDataset:
    name: str
    config: str | None = None
    split: str | None = None

    def spec(self) -> str:
        config = f":{self.config}" if self.config else ""
        split = f"@{self.split}" if self.split else ""
        return f"{PREFIX}{self.name}{config}{split}"


def is_hf(source: str) -> bool:
    return source.strip().startswith(PREFIX)


def parse_hf(source: str) -> HFDataset:
    """Split `hf:NAME[:CONFIG][@SPLIT]`; SynthRLError with the spelling when it is not one."""
    body = source.strip()[len(PREFIX) :] if is_hf(source) else ""
    rest, _, split = body.partition("@")
    name, _, config = rest.partition(":")
    if not name.strip() or (rest.count(":") > 1) or ("@" in split):
        raise SynthRLError(f"Hugging Face dataset {source!r} not understood; write {SPELLING}.")
    return HFDataset(name.strip(), config.strip() or None, split.strip() or None)


def with_default_split(source: str, split: str) -> str:
    """`source` with `split` filled in when it names none."""
    parsed = parse_hf(source)
    return parsed.spec() if parsed.split else HFDataset(parsed.name, parsed.config, split).spec()


def hf_rows(source: str, default_split: str = "test") -> Iterator[dict[str, Any]]:
    """Stream the rows of `hf:NAME[:CONFIG][@SPLIT]` (split `default_split` when none is given)."""
    parsed = parse_hf(source)
    try:
        import datasets

        yield from datasets.load_dataset(
            parsed.name, parsed.config, split=parsed.split or default_split, streaming=True
        )
    except SynthRLError:
        raise
    except Exception as err:  # network, auth, missing config: every kind of hub error
        raise SynthRLError(
            f"could not read Hugging Face dataset {parsed.name!r} ({source}; "
            f"{type(err).__name__}: {err}). Check the name, its config (e.g. openai/gsm8k needs "
            f"`:main`; spelling: {SPELLING}) and the network, or download it and give the local "
            "JSONL/Parquet file."
        ) from None
