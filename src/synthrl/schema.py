"""Reading YAML files into pydantic models, with errors naming file, field and fix."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from synthrl.errors import TaskFileError

M = TypeVar("M", bound=BaseModel)


class _Loader(yaml.SafeLoader):
    """Safe YAML in which dates and times stay text: PyYAML would build a `date`, and raise a
    bare ValueError for an impossible one such as `2024-13-45`. No synthrl field is a date."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if not tag.endswith(":timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# What a YAML document can raise besides YAMLError: PyYAML's constructors of explicitly tagged
# scalars raise bare ValueError (`!!float x`), IndexError (`!!int` of nothing), KeyError
# (`!!bool x`) and others, and nesting deeper than Python's recursion limit RecursionError.
YAML_ERRORS = (
    yaml.YAMLError,
    ValueError,
    TypeError,
    LookupError,
    AttributeError,
    OverflowError,
    RecursionError,
)


def parse_yaml(text: str) -> Any:
    """YAML text as plain values (raises one of `YAML_ERRORS` on bad input)."""
    return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: safe


def yaml_problem(err: Exception) -> str:
    """Where and what a YAML error is, for a message."""
    mark = getattr(err, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    if isinstance(err, RecursionError):
        return f"{where}: nested too deeply"
    problem = getattr(err, "problem", None) or str(err)
    return f"{where}: {problem}"


def load_yaml_mapping(path: Path) -> dict[str, Any]:
    """Read a YAML file whose top level must be a mapping."""
    if not path.exists():
        raise TaskFileError(
            f"{path}: no such file. Check the path (relative paths start at {Path.cwd()})."
        )
    if path.is_dir():
        raise TaskFileError(f"{path}: is a folder. Give the path of a .yaml file.")
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise TaskFileError(f"{path}: not UTF-8 text. Save the file as UTF-8 YAML.") from None
    except YAML_ERRORS as err:
        raise TaskFileError(
            f"{path}: not valid YAML{yaml_problem(err)}. "
            "Fix the indentation or quoting there (quote text that contains ': ' or '#')."
        ) from None
    if data is None:
        raise TaskFileError(f"{path}: the file is empty. Start from one of examples/tasks/*.yaml.")
    if not isinstance(data, dict):
        raise TaskFileError(
            f"{path}: the top level must be a mapping of fields "
            "(description: ..., output_format: ...), "
            f"not a {type(data).__name__}."
        )
    return data


def validate(model: type[M], data: dict[str, Any], source: str, prefix: str = "") -> M:
    """Validate `data` as `model`; else TaskFileError listing each problem and fix."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        lines = [explain_error(model, e, prefix) for e in err.errors()]
        raise TaskFileError(
            f"{source}: invalid\n" + "\n".join(f"  - {line}" for line in lines)
        ) from None


def explain_error(model: type[BaseModel], error: Any, prefix: str = "") -> str:
    """One line for one pydantic error: the field, what is wrong, and how to fix it."""
    loc = ".".join(str(p) for p in error["loc"])
    field = f"{prefix}{loc}" if loc else prefix.rstrip(".") or "(top level)"
    kind = error["type"]
    if kind == "missing":
        return f"field '{field}' is required. Add `{loc.split('.')[-1]}: ...`."
    if kind == "extra_forbidden":
        name = str(error["loc"][-1])
        known = _known_fields(model, error["loc"][:-1])
        close = difflib.get_close_matches(name, known, n=1)
        hint = (
            f" Did you mean '{close[0]}'?" if close else f" Known fields here: {', '.join(known)}."
        )
        return f"field '{field}' is not a known field.{hint}"
    if kind in ("literal_error", "enum"):
        expected = error.get("ctx", {}).get("expected", "")
        return f"field '{field}' is {error['input']!r}; use one of {expected}."
    if kind == "string_type" and isinstance(error.get("input"), bool):
        return (
            f"field '{field}' was read as {error['input']} because YAML reads yes/no/on/off as "
            "booleans; put it in quotes, e.g. 'yes'."
        )
    msg = error["msg"].removeprefix("Value error, ")
    return f"field '{field}': {msg}."


def _known_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names of the (nested) model at `loc`, for 'did you mean' hints."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            inner = getattr(candidate, "__args__", (candidate,))
            found = next((c for c in (candidate, *inner) if hasattr(c, "model_fields")), None)
            if found is not None:
                current = found
                break
        else:
            return []
    return sorted(getattr(current, "model_fields", {}))
