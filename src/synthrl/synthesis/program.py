"""Label checks for number tasks that re-do the instructor's arithmetic, with a whitelisted
interpreter (Python's `ast`, never `eval`/`exec`).

Small code models answer word problems by writing a Python program and then *imagine* its
output: the embedded instructor's program computes 72 and its made-up "```output 60.0```"
(and its boxed answer) says 60. `program_answer` runs such a program when it is straight-line
arithmetic: assignments of arithmetic over numbers and earlier names, `print(...)`, and a few
pure functions (round, abs, int, float, min, max, math.ceil/floor/sqrt). Anything else (loops,
imports other than math, attribute access, strings, calls to anything else) means no verdict.
`arithmetic_errors` checks the `a op b = c` equations a chain-of-thought writes.

The `verify` stage uses them (`verify.check_arithmetic`): a vote whose program runs takes the
program's printed value as its answer; a vote without one whose equations are wrong counts as
unreadable. Labels only: completions of the base model are judged by the answer module alone.
"""

from __future__ import annotations

import ast
import itertools
import math
import operator
import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from synthrl.answers.numbers import canonical

Number = int | float | Fraction
_MAX_ABS = 1e15
_MAX_NODES = 400
_MAX_CHARS = 4000
_MAX_EQUATIONS = 1000
_CODE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "round": round,
    "abs": abs,
    "int": int,
    "float": float,
    "min": min,
    "max": max,
    "ceil": math.ceil,
    "floor": math.floor,
    "sqrt": math.sqrt,
}


class _Refused(Exception):
    """The program leaves the whitelist, or its arithmetic fails."""


def program_answer(completion: str) -> Number | None:
    """The value the last Python block of `completion` prints (or, without a print, the last
    name it assigns), if the block is straight-line arithmetic; else None."""
    blocks = _CODE.findall(completion)
    if not blocks or len(blocks[-1]) > _MAX_CHARS:
        return None
    try:
        tree = ast.parse(blocks[-1])
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if sum(1 for _ in ast.walk(tree)) > _MAX_NODES:
        return None
    try:
        return _run(tree)
    except (_Refused, ArithmeticError, ValueError, TypeError, RecursionError):
        return None


def checked_vote(completion: str, answer: str | None) -> str | None:
    """A number vote's answer after the label checks: the program's printed value when the vote
    carries a straight-line arithmetic program, None when its written equations are wrong,
    else its own answer."""
    value = program_answer(completion)
    if value is not None:
        exact = Fraction(value) if not isinstance(value, float) else Fraction(str(round(value, 6)))
        return canonical(exact)
    if answer is not None and arithmetic_errors(completion):
        return None
    return answer


def _run(tree: ast.Module) -> Number | None:
    names: dict[str, Number] = {}
    printed: Number | None = None
    last: Number | None = None
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            if any(alias.name != "math" for alias in node.names):
                raise _Refused
        elif isinstance(node, ast.Assign):
            if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
                raise _Refused
            last = names[node.targets[0].id] = _value(node.value, names)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            current = names.get(node.target.id)
            if current is None or type(node.op) not in _BINARY:
                raise _Refused
            last = names[node.target.id] = _checked(
                _BINARY[type(node.op)](current, _value(node.value, names))
            )
        elif isinstance(node, ast.Expr) and _is_print(node.value):
            args = node.value.args  # type: ignore[attr-defined]
            numbers = [a for a in args if not isinstance(a, ast.Constant | ast.JoinedStr)]
            if len(numbers) != 1:
                raise _Refused
            printed = _value(numbers[0], names)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a docstring or a bare string
        else:
            raise _Refused
    return printed if printed is not None else last


def _is_print(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "print"
        and not node.keywords
    )


def _value(node: ast.expr, names: dict[str, Number]) -> Number:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _checked(node.value)
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise _Refused
        return names[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _value(node.left, names), _value(node.right, names)
        if isinstance(node.op, ast.Pow) and abs(right) > 12:
            raise _Refused
        return _checked(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _value(node.operand, names)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Call) and not node.keywords:
        name = _function_name(node.func)
        if name in _FUNCTIONS and 1 <= len(node.args) <= 4:
            return _checked(_FUNCTIONS[name](*(_value(a, names) for a in node.args)))
    raise _Refused


def _function_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    is_math = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
    if is_math and func.value.id == "math":  # type: ignore[attr-defined]
        return func.attr  # type: ignore[attr-defined]
    return None


def _checked(value: Any) -> Number:
    if isinstance(value, bool) or not isinstance(value, int | float | Fraction):
        raise _Refused
    if (isinstance(value, float) and not math.isfinite(value)) or abs(value) > _MAX_ABS:
        raise _Refused
    return value


_EQUATION = re.compile(
    r"(?<![\w.])((?:\d[\d,]*(?:\.\d+)?|\(|\))(?:\s*(?:[-+*/×x÷]|\\times|\\div|\\cdot)\s*"
    r"\(?\s*\d[\d,]*(?:\.\d+)?\s*\)?)+)\s*=\s*\$?(-?\d[\d,]*(?:\.\d+)?)(?![\d.]*\d)"
)


def arithmetic_errors(completion: str) -> int:
    """How many `a op b = c` equations in `completion` are wrong (relative error above 1%, so
    that rounded results such as `10 / 3 = 3.33` pass); program blocks are not read. At most the
    first `_MAX_EQUATIONS` are checked (a hostile megabyte of equations takes milliseconds)."""
    text = _CODE.sub(" ", completion)
    errors = 0
    for match in itertools.islice(_EQUATION.finditer(text), _MAX_EQUATIONS):
        left = _expression_value(match.group(1))
        if left is None:
            continue
        right = float(match.group(2).replace(",", ""))
        if abs(left - right) > 0.01 * max(1.0, abs(right)):
            errors += 1
    return errors


def _expression_value(text: str) -> float | None:
    cleaned = text.replace(",", "").replace("\\times", "*").replace("×", "*").replace("\\cdot", "*")
    cleaned = re.sub(r"(?<=\d)\s*x\s*(?=\d)", "*", cleaned).replace("\\div", "/").replace("÷", "/")
    if len(cleaned) > 200:
        return None
    try:
        tree = ast.parse(cleaned.strip(), mode="eval")
        value = _value(tree.body, {})
    except (SyntaxError, _Refused, ArithmeticError, ValueError, TypeError, RecursionError):
        return None
    return float(value)
