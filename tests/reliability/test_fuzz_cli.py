"""Fuzzed task files and command lines through the real CLI entry point (`synthrl.cli.main`).

Task files: random YAML trees over the task's own field names, random YAML text (anchors,
tags, impossible dates, bad indentation) and byte noise. `synthrl validate` must accept the file
or exit 2 with the file, the field (or the YAML position) and a fix, never a traceback.

Command lines: random arguments and `--set` overrides for every subcommand. Each must exit with
a clear message (0, 1 or 2), never a traceback. No model is loaded: opening one ends the
command (exit 97), and SYNTHRL_HOME and the working directory are temporary.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from synthrl.errors import SynthRLError

SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
MODEL_OPENED = 97


class _ModelOpened(SynthRLError):
    exit_code = MODEL_OPENED


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary home and working directory; opening any model ends the command."""
    from synthrl.llm import registry

    def refuse(spec: str, cfg: Any = None) -> Any:
        raise _ModelOpened(f"would open {spec}")

    monkeypatch.setattr(registry, "open_backend", refuse)
    monkeypatch.setenv("SYNTHRL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli(*args: str, stdin: str = "") -> tuple[int, str]:
    """Run `synthrl ARGS` in this process: (exit code, stdout + stderr)."""
    from synthrl import cli as entry

    out = io.StringIO()
    code: Any = 0
    argv, sys.argv = sys.argv, ["synthrl", *args]
    stdin_was, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            entry.main()
    except SystemExit as done:
        code = done.code
    finally:
        sys.argv, sys.stdin = argv, stdin_was
    return (code if isinstance(code, int) else 1), out.getvalue()


def _scalars() -> st.SearchStrategy[Any]:
    return (
        st.none()
        | st.booleans()
        | st.integers(-(10**20), 10**20)
        | st.floats()
        | st.text(max_size=15)
        | st.sampled_from(["number", "choice", "label", "ABCD", "embedded", "hf:", "yes", "1e9"])
    )


FIELD_NAMES = [
    *("name", "description", "input_format", "output_format", "answer", "demos", "keywords"),
    *("library", "evaluation", "settings", "kind", "letters", "labels", "synonyms", "input"),
    *("output", "source", "text_field", "benchmark", "path", "fields", "limit", "generate"),
    *("n", "verify", "k", "llm", "timeout_s", "models", "base", "train", "lora", "preset"),
]
trees = st.recursive(
    _scalars(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
NEEDED = ("description", "output_format", "answer")
task_like = st.fixed_dictionaries(
    {
        "description": st.text(max_size=30),
        "output_format": st.text(max_size=10),
        "answer": st.dictionaries(st.sampled_from(FIELD_NAMES), trees, max_size=3),
    },
    optional={name: trees for name in FIELD_NAMES if name not in NEEDED},
)
YAML_PIECES = [
    *(": ", "- ", "  ", "\n", "&a ", "*a", "!!str ", "!!int ", "!!timestamp ", "!!python/name:os"),
    *("{", "}", "[", "]", '"', "'", "#", "? ", "|\n", ">\n", "2024-13-45", "12:60:61", "0x1G"),
    *("description", "answer", "kind", "settings", "~", ".inf", "<<: *a", "%YAML 1.1\n", "---\n"),
    *("\t", "\x85", "\ufeff", "é"),
]
yaml_text = st.lists(st.sampled_from(YAML_PIECES) | st.text(max_size=5), max_size=30).map("".join)


def _check_validate(data: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzz-task-") as folder:
        path = Path(folder) / "task.yaml"
        path.write_bytes(data)
        code, output = cli("validate", str(path))
    assert "Traceback" not in output, output
    assert code in (0, 2), (code, output)
    if code == 2:
        assert "error:" in output and "task.yaml" in output, output
        fixes = ("field '", "not valid YAML", "not UTF-8", "empty", "top level must be a mapping")
        assert any(fix in output for fix in fixes), output


@SETTINGS
@given(tree=task_like | trees)
def test_task_trees(sandbox: Path, tree: Any) -> None:
    _check_validate(yaml.safe_dump(tree, allow_unicode=True).encode())


@SETTINGS
@given(text=yaml_text)
def test_task_yaml_text(sandbox: Path, text: str) -> None:
    _check_validate(text.encode("utf-8", "surrogatepass"))


@SETTINGS
@given(noise=st.binary(max_size=200))
def test_task_byte_noise(sandbox: Path, noise: bytes) -> None:
    _check_validate(noise)


STAGE_NAMES = ["keywords", "retrieve", "generate", "select", "train", "evaluate", "zz", ""]
SPECS = ["embedded:base", "embedded:nope", "openai:", "openai:http://127.0.0.1:9/v1#m", "hf:x", "x"]
SETS = [
    *("generate.n=5", "generate.n=-1", "generate.n=[", "a.b.c=1", "generate=5", "=", ".n=1"),
    *("llm.timeout_s=0", "verify.k=2024-13-45", "train.lora=maybe", "select.m=2", "x", "k=v="),
    *("score.adaptive=true", "select.strategy=easy", "models.base=gguf:/nope", "llm=[1]"),
]
RUN_DIRS = ["EMPTY", "BROKEN", "PARTIAL", "nope", ".", "TASK"]
junk = st.text(max_size=6)
numbers = st.sampled_from(["0", "-1", "3", "1e9", "nan", "0.7", "x", ""])


def _pairs(options: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[list[str]]:
    """A few `--option value` pairs (and bare flags, whose strategy is `st.just("")`)."""
    if not options:
        return st.lists(junk, max_size=2)
    one = st.sampled_from(sorted(options)).flatmap(
        lambda name: options[name].map(lambda value: [name, value] if value != "" else [name])
    )
    return st.lists(one | junk.map(lambda x: [x]), max_size=5).map(
        lambda xs: [a for x in xs for a in x]
    )


pick = st.sampled_from
COMMON = {"--preset": pick(["paper", "cpu", "gpu"]), "--set": pick(SETS)}
RUN = {
    **COMMON,
    **{"--from": pick(STAGE_NAMES), "--to": pick(STAGE_NAMES), "--base": pick(SPECS)},
    **{"--instructor": pick(SPECS), "--out": pick(["out", "", "TASK"]), "--force": st.just("")},
    **{"--no-cache": st.just(""), "--cache": pick(["c.sqlite", "/proc/nope/c.sqlite"])},
    "--yes": st.just(""),
}
EVAL = {
    **{"--bench": pick(["gsm8k", "math500", "nobench"]), "--data": pick(["TASK", "nope.jsonl"])},
    **{"--limit": numbers, "--seeds": pick(["0,1", "1,x", ""]), "--temperature": numbers},
    **{"--max-tokens": numbers, "--task": pick(["TASK", "nope.yaml"]), "--field": pick(SETS)},
    **COMMON,
}
JUDGE = {
    **{"--kind": pick(["number", "math", "choice", "yes_no", "label", "text", "x"])},
    **{"--gold": pick(["18", "B", "yes", "", "\\frac12"]), "--verbose": st.just("")},
    "--opt": pick(["letters=ABC", "letters=", "labels=a,b", "x=1", "=", "tolerance=0.1"]),
}
RUN_DIR = {"--set": pick(SETS), "--from": pick(STAGE_NAMES), "--to": pick(STAGE_NAMES)}
COMMAND_LINES = st.one_of(
    st.tuples(st.just(["run"]), pick(["TASK", "nope.yaml", "."]), _pairs(RUN)),
    st.tuples(st.just(["plan"]), pick(["TASK", "nope.yaml"]), _pairs(RUN)),
    st.tuples(st.just(["config"]), pick(["TASK", "", "nope.yaml"]), _pairs(COMMON)),
    st.tuples(st.just(["validate"]), pick(["TASK", "nope.yaml", "."]), _pairs({})),
    st.tuples(st.just(["eval"]), pick(SPECS), _pairs(EVAL)),
    st.tuples(st.just(["audit"]), pick(["TASK", "nope.yaml"]), _pairs(EVAL)),
    st.tuples(st.just(["judge"]), st.just(""), _pairs(JUDGE)),
)
RUN_DIR_LINES = st.tuples(
    pick([["status"], ["report"], ["resume"], ["train"], ["export", "verl"], ["compare"]]),
    pick(RUN_DIRS),
    _pairs({**RUN_DIR, "--algo": pick(["sft", "grpo", "x"]), "--engine": pick(["verl", "x"])}),
)


def _places(root: Path) -> dict[str, str]:
    """The task file and run directories the command lines name (made once per sandbox)."""
    task = root / "task.yaml"
    if not task.exists():
        task.write_text(
            "name: t\ndescription: Solve arithmetic word problems.\n"
            "output_format: 'End with #### N.'\nanswer: {kind: number}\n"
        )
        (root / "empty").mkdir()
        (root / "broken").mkdir()
        (root / "broken" / "run.json").write_text('{"task_file": ')
        (root / "partial").mkdir()
        (root / "partial" / "run.json").write_text('{"task_file": "nope.yaml", "preset": 5}')
        (root / "partial" / "select").mkdir()
        (root / "partial" / "select" / "manifest.json").write_text("[1, 2")
    return {"TASK": str(task), "EMPTY": "empty", "BROKEN": "broken", "PARTIAL": "partial"}


@SETTINGS
@given(line=COMMAND_LINES, stdin=st.sampled_from(["", "#### 18", "\\boxed{x"]))
@example(line=(["eval"], "embedded:base", ["--seeds", "1,x"]), stdin="")  # found, fixed
def test_command_lines(sandbox: Path, line: tuple[list[str], str, list[str]], stdin: str) -> None:
    _check_line(sandbox, line, stdin)


@settings(SETTINGS, max_examples=40)
@given(line=RUN_DIR_LINES)
def test_run_directory_command_lines(sandbox: Path, line: tuple[list[str], str, list[str]]) -> None:
    """status, report, resume, train, export, compare on missing, empty, cut-off and foreign run
    directories."""
    _check_line(sandbox, line, "")


def _check_line(sandbox: Path, line: tuple[list[str], str, list[str]], stdin: str) -> None:
    places = _places(sandbox)
    command, first, rest = line
    args = [*command, *([first] if first else []), *rest]
    args = [places.get(a, a).replace("\x00", "") for a in args]
    code, output = cli(*args, stdin=stdin)
    assert "Traceback" not in output, (args, output)
    assert code in (0, 1, 2, MODEL_OPENED), (args, code, output)
    if code in (1, 2) and "Usage:" not in output:
        assert "error" in output.lower(), (args, output)
    assert os.getcwd() == str(sandbox)
