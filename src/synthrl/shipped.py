"""Files shipped inside the synthrl package (so a wheel works on its own): the example task
files (`data/tasks/*.yaml`, also reachable as `examples/tasks/` in a source checkout) and the
small fallback evaluation sets they name (`data/eval/*.jsonl`), read with importlib.resources.

    example_task("gsm8k")   # -> Path of the shipped gsm8k.yaml
"""

from __future__ import annotations

import atexit
from contextlib import ExitStack
from functools import cache
from importlib import resources
from pathlib import Path

from synthrl.errors import SynthRLError

_FILES = ExitStack()
atexit.register(_FILES.close)


@cache
def data_dir() -> Path:
    """The package's `data/` folder as a real directory (extracted once if the package is
    imported from a zip; a plain path for an installed wheel or a source checkout)."""
    return Path(_FILES.enter_context(resources.as_file(resources.files("synthrl") / "data")))


def example_tasks() -> dict[str, Path]:
    """Every shipped example task file, by name (file stem)."""
    return {path.stem: path for path in sorted((data_dir() / "tasks").glob("*.yaml"))}


def example_task(name: str) -> Path:
    """The shipped example task file `name`; SynthRLError naming the shipped ones otherwise."""
    tasks = example_tasks()
    if name not in tasks:
        raise SynthRLError(
            f"no example task {name!r} ships with synthrl; choose one of: {', '.join(tasks)}."
        )
    return tasks[name]
