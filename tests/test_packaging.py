"""The package metadata (pyproject.toml) against the code: every third-party module synthrl
imports is declared (core, or the extra whose feature imports it); llama-cpp-python belongs to
the `embedded` extra and its `[server]` to `dev`; the `reward` extra is enough for the answer
checker a veRL node imports; the licence is shipped with a build backend that reads it."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from tests.conftest import REPO

SRC = REPO / "src" / "synthrl"
META = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = META["project"]
EXTRAS: dict[str, list[str]] = PROJECT["optional-dependencies"]
# Imported only behind an availability check, for optional engines (GPU, trackers, the Hub
# client that datasets brings): the extra that provides each.
GUARDED = {"vllm": "gpu", "wandb": "tracking", "tensorboard": "tracking", "verl": None}


def dist_name(requirement: str) -> str:
    """`llama-cpp-python[server]>=0.3` -> `llama-cpp-python` (normalised)."""
    name = re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(*groups: str) -> set[str]:
    reqs = list(PROJECT["dependencies"]) if "core" in groups else []
    for group in groups:
        reqs += EXTRAS.get(group, [])
    return {dist_name(r) for r in reqs}


def imports_of(path: Path) -> set[str]:
    return imports_in(path.read_text(encoding="utf-8"))


def imports_in(source: str) -> set[str]:
    """Top-level module names the Python `source` imports (absolute imports only)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def third_party(modules: set[str]) -> set[str]:
    return {m for m in modules if m not in sys.stdlib_module_names and m != "synthrl"}


def test_every_imported_package_is_declared() -> None:
    owners = packages_distributions()
    everything = declared("core", *EXTRAS)
    missing = {}
    for path in SRC.rglob("*.py"):
        for module in third_party(imports_of(path)) - set(GUARDED):
            dists = {re.sub(r"[-_.]+", "-", d).lower() for d in owners.get(module, [module])}
            if not dists & everything:
                missing[module] = str(path.relative_to(REPO))
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
    assert "scipy" in declared("core")  # imported by the evaluation's statistics


def test_llama_cpp_is_the_embedded_extra_and_its_server_a_dev_need() -> None:
    assert "llama-cpp-python" not in declared("core")  # a 5-minute compile for everyone
    assert "llama-cpp-python" in declared("embedded")
    servers = [r for group in EXTRAS for r in EXTRAS[group] if "llama-cpp-python[server]" in r]
    assert servers and all(r in EXTRAS["dev"] for r in servers)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "GGML_NATIVE=OFF" in readme  # the AMX-safe build, for pip users


def test_gpu_extra_follows_trl_and_no_core_pulling_verl_extra() -> None:
    assert any(r.startswith("trl[vllm]") for r in EXTRAS["gpu"])  # the vLLM range TRL supports
    assert "verl" not in EXTRAS


def modules_reached(start: str) -> set[Path]:
    """The synthrl modules `start` (a dotted name) imports, transitively."""
    todo, seen = [start], set()
    while todo:
        name = todo.pop()
        parts = name.split(".")
        path = REPO / "src" / Path(*parts)
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        if not path.is_file() or path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.startswith("synthrl"):
                    todo.append(node.module)
                    todo += [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name.startswith("synthrl")]
    return seen


def test_reward_extra_covers_the_answer_checker() -> None:
    """A veRL node installs synthrl --no-deps plus the `reward` extra, then imports the reward
    file written by `synthrl export verl` (synthrl.answers)."""
    from synthrl.train.verl import REWARD_FILE

    needed = third_party(imports_in(REWARD_FILE))
    for path in modules_reached("synthrl.answers"):
        needed |= third_party(imports_of(path))
    owners = packages_distributions()
    dists = {re.sub(r"[-_.]+", "-", d).lower() for m in needed for d in owners.get(m, [m])}
    assert dists and dists <= declared("reward"), dists - declared("reward")


def test_licence_shipped_with_a_backend_that_reads_it() -> None:
    assert (REPO / "LICENSE").read_text(encoding="utf-8").lstrip().startswith("Apache License")
    assert PROJECT["license"] == "Apache-2.0" and PROJECT["license-files"] == ["LICENSE"]
    (setuptools,) = [r for r in META["build-system"]["requires"] if dist_name(r) == "setuptools"]
    minimum = re.search(r">=\s*(\d+)", setuptools)
    assert minimum and int(minimum.group(1)) >= 77  # PEP 639 license expressions


def test_without_the_embedded_extra_gguf_models_name_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from synthrl.errors import SynthRLError
    from synthrl.llm.llamacpp_backend import LlamaCppBackend

    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # not installed: import fails
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    with pytest.raises(SynthRLError, match=r"pip install 'synthrl\[embedded\]'"):
        LlamaCppBackend(model, "m")
