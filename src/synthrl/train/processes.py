"""Which process this is under an accelerate / torchrun launch (read from the environment, so
it costs no torch import)."""

from __future__ import annotations

import os


def world_size() -> int:
    """Processes training together (1 when not launched by accelerate / torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    """True in a single process and on rank 0 of a launch: the one that writes files."""
    return int(os.environ.get("RANK", "0")) == 0
