"""`synthrl cache export|import FILE`: carry the call cache (every paid model call) to another
machine as JSON lines; registered on synthrl.cli's app."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from synthrl.cli import app, console
from synthrl.errors import SynthRLError

if TYPE_CHECKING:
    from synthrl.llm import CallCache

cache_app = typer.Typer(help="Carry the call cache (every paid model call) between machines.")
app.add_typer(cache_app, name="cache")

CacheOption = Annotated[
    Path | None, typer.Option(help="Call cache file (default: the one every run shares).")
]


def _open(cache: Path | None, must_exist: bool) -> CallCache:
    from synthrl.llm import CallCache
    from synthrl.paths import default_cache_path

    path = cache or default_cache_path()
    if must_exist and not path.exists():
        raise SynthRLError(f"no call cache at {path} (give one with --cache).", exit_code=2)
    return CallCache(path)


@cache_app.command("export")
def export_cmd(
    file: Annotated[Path, typer.Argument(help="JSON-lines file to write (replaced whole).")],
    cache: CacheOption = None,
) -> None:
    """Write every cached call to FILE: the requests' keys and their replies, no API keys."""
    store = _open(cache, must_exist=True)
    count = store.dump(file)
    console.print(f"[green]ok[/] {count} cached calls from {store.path} written to {file}")


@cache_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="A file written by `synthrl cache export`.")],
    cache: CacheOption = None,
) -> None:
    """Add FILE's calls to the cache (calls it already holds are kept): a run on this machine
    then replays them instead of paying again."""
    if not file.exists():
        raise SynthRLError(f"{file} does not exist.", exit_code=2)
    store = _open(cache, must_exist=False)
    added = store.load(file)
    console.print(f"[green]ok[/] {added} calls added to {store.path} ({len(store)} in all)")
