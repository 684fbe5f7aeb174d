"""Task definitions: the paper's three instructions, how answers are judged, optional demos.

A task file is YAML; `load_task(path)` validates it and raises `TaskFileError` (exit code 2) naming
the file, the field and the fix. `synthrl validate TASK.yaml` runs the same check.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from synthrl.schema import load_yaml_mapping, validate

AnswerKind = Literal["number", "math", "choice", "yes_no", "label", "text"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AnswerSpec(_Strict):
    """How an answer is extracted from a completion and compared with the gold answer."""

    kind: AnswerKind = Field(description="number, math, choice, yes_no, label or text.")
    letters: str | None = Field(
        None,
        description="choice only: the option letters in order, as a string or a list: 'ABCD' "
        "(default), 'ABC' or [A, B, C].",
    )
    labels: list[str] | None = Field(
        None, description="label only: the label set, e.g. [entailment, neutral, contradiction]."
    )
    synonyms: dict[str, list[str]] = Field(
        default_factory=dict, description="label only: other words accepted for each label."
    )
    tolerance: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="number only: relative tolerance, e.g. 0.001 (answers within 0.1% of the "
        "label are right); default exact rational comparison (right for GSM8K).",
    )
    decimals: int | None = Field(
        None,
        ge=0,
        le=12,
        description="number only: answers are judged to this many decimal places (right when "
        "within half a unit of the last place: 0.005 for 2), as measurements are.",
    )

    @field_validator("letters", mode="before")
    @classmethod
    def _letters_list(cls, value: Any) -> Any:
        """`letters: [A, B, C, D]` (a YAML list, as people write it) means 'ABCD'."""
        if isinstance(value, list | tuple):
            if not all(isinstance(x, str) and len(x.strip()) == 1 for x in value):
                raise ValueError(
                    "a list of letters must hold single letters, e.g. [A, B, C, D] (or write "
                    "the string 'ABCD')"
                )
            return "".join(x.strip() for x in value)
        if value is not None and not isinstance(value, str):
            raise ValueError(
                f"got {value!r}; write the option letters as a list [A, B, C, D] or a string 'ABCD'"
            )
        return value

    @field_validator("letters")
    @classmethod
    def _letters_ok(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Z]{2,26}", value):
            raise ValueError(
                "must be 2 to 26 capital letters, as a string 'ABCD' or a list [A, B, C, D]"
            )
        if value is not None and len(set(value)) != len(value):
            raise ValueError(f"letters repeat in {value!r}; list each option letter once")
        return value

    @model_validator(mode="after")
    def _fits_kind(self) -> AnswerSpec:
        if self.kind == "label":
            if not self.labels or len(self.labels) < 2:
                raise ValueError("kind 'label' needs `labels:` with at least two labels")
            lowered = [label.strip().lower() for label in self.labels]
            if len(set(lowered)) != len(lowered) or "" in lowered:
                raise ValueError("`labels` must be distinct, non-empty words")
            unknown = set(self.synonyms) - set(self.labels)
            if unknown:
                raise ValueError(f"`synonyms` names labels not in `labels`: {sorted(unknown)}")
        elif self.labels is not None or self.synonyms:
            raise ValueError(f"`labels`/`synonyms` apply to kind 'label' only, not {self.kind!r}")
        if self.letters is not None and self.kind != "choice":
            raise ValueError(f"`letters` applies to kind 'choice' only, not {self.kind!r}")
        self._precision_ok()
        return self

    def _precision_ok(self) -> None:
        precision = [n for n in ("tolerance", "decimals") if getattr(self, n) is not None]
        if precision and self.kind != "number":
            raise ValueError(f"`{precision[0]}` applies to kind 'number' only, not {self.kind!r}")
        if len(precision) == 2:
            raise ValueError(
                "give one of `tolerance` (relative, e.g. 0.001) or `decimals` (e.g. 2), not both"
            )

    def options(self) -> dict[str, Any]:
        """Keyword options for `synthrl.answers` (choice letters, label set, number precision)."""
        if self.kind == "choice":
            return {"letters": self.letters or "ABCD"}
        if self.kind == "label":
            return {"labels": list(self.labels or []), "synonyms": dict(self.synonyms)}
        if self.kind == "number" and self.tolerance is not None:
            return {"rel_tol": self.tolerance}
        if self.kind == "number" and self.decimals is not None:
            return {"decimals": self.decimals}
        return {}


class Demo(_Strict):
    """One demonstration example (the paper's optional D_example)."""

    input: str = Field(min_length=1)
    output: str = Field(min_length=1)


class LibrarySpec(_Strict):
    """The passage library that grounds generation (default: the embedded Wikipedia intros)."""

    source: str = Field(
        "embedded",
        description="'embedded', a JSONL/Parquet file or folder of them, or 'hf:DATASET_NAME'.",
    )
    text_field: str = Field("text", description="Field holding the passage text.")
    title_field: str | None = Field("title", description="Field holding a title, if any.")


class EvaluationSpec(_Strict):
    """The real held-out data the trained model is measured on."""

    benchmark: str | None = Field(
        None, description="A built-in benchmark name (gsm8k, math500, logiqa, medqa)."
    )
    path: str | None = Field(None, description="A JSONL/Parquet file, relative to the task file.")
    fields: dict[str, str] = Field(
        default_factory=dict, description="Field mapping: question, options, answer."
    )
    limit: int | None = Field(None, gt=0, description="Evaluate on the first N items only.")
    fallback_path: str | None = Field(
        None,
        description="A JSONL/Parquet file (relative to the task file) used when the built-in "
        "benchmark's data is not found.",
    )


class Task(_Strict):
    """A task definition (paper section 4, appendix A.5)."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Short name, e.g. gsm8k."
    )
    description: str = Field(min_length=10, description="Task description instruction (I_des).")
    input_format: str | None = Field(None, description="Input format instruction (I_input).")
    output_format: str = Field(min_length=3, description="Output format instruction (I_output).")
    answer: AnswerSpec
    demos: list[Demo] = Field(default_factory=list, description="Optional demonstration examples.")
    keywords: list[str] = Field(
        default_factory=list, description="Optional domain keywords, added to the instructor's."
    )
    library: LibrarySpec = Field(default_factory=LibrarySpec)
    evaluation: EvaluationSpec | None = None
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Overrides of the run configuration (see `synthrl config`).",
    )
    _base_dir: Path | None = PrivateAttr(None)

    @property
    def base_dir(self) -> Path | None:
        """The task file's folder: relative paths in the file are resolved against it."""
        return self._base_dir

    @field_validator("input_format")
    @classmethod
    def _none_means_none(cls, value: str | None) -> str | None:
        return None if value is None or value.strip().lower() in ("", "none") else value

    def checker_options(
        self, question: str = "", choices: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """The answer checker's options for one question of this task (see
        `synthrl.answers.options.checker_options`)."""
        from synthrl.answers.options import checker_options

        return checker_options(self.answer.kind, self.answer.options(), question, choices)

    def fingerprint(self) -> str:
        """A content hash of everything that shapes generated data (settings excluded)."""
        payload = self.model_dump(exclude={"settings", "evaluation"})
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def load_task(path: str | Path) -> Task:
    """Load and validate a task file; raise TaskFileError with every problem and its fix."""
    path = Path(path)
    data = load_yaml_mapping(path)
    data.setdefault("name", re.sub(r"[^A-Za-z0-9_.-]", "-", path.stem))
    task = validate(Task, data, str(path))
    task._base_dir = path.resolve().parent
    return task
