"""Where synthrl keeps things outside the run directory (models, the call cache)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def home() -> Path:
    """`$SYNTHRL_HOME`, else the user's cache directory (e.g. ~/.cache/synthrl)."""
    configured = os.environ.get("SYNTHRL_HOME")
    root = Path(configured) if configured else Path(platformdirs.user_cache_dir("synthrl"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def default_cache_path() -> Path:
    """The persistent call cache shared by all runs."""
    return home() / "calls.sqlite"
