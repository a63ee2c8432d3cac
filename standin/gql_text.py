"""Reads just enough of a GraphQL document to answer it: operation kind and root fields.

This is deliberately not a GraphQL parser. It blanks out strings and comments, walks the
braces of the first operation, and records each root field with its alias and which
variable feeds each argument. Known limits (docs/standin.md, "GraphQL"): only the first
operation of a document is read; fragments spread at the root and directives are ignored;
literal (non-variable) arguments are only read as numbers, for the cost estimate; the
answer always holds the resolver's whole object, not only the fields selected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_STRING = re.compile(r'"""[\s\S]*?"""|"(?:\\.|[^"\\])*"')
_COMMENT = re.compile(r"#[^\n]*")
_FIELD = re.compile(r"(?:(?P<alias>\w+)\s*:\s*)?(?P<name>\w+)\s*(?:\(#(?P<args>\d+)\))?")
_VARIABLE_ARG = re.compile(r"(\w+)\s*:\s*\$(\w+)")
_NUMBER_ARG = re.compile(r"(\w+)\s*:\s*(-?\d+)")
_PAGE_SIZE = re.compile(r"\b(?:first|last)\s*:\s*(?:(\d+)|\$(\w+))")

MUTATION_COST = 10


@dataclass
class RootField:
    name: str
    alias: str
    # argument name -> variable name, for `arg: $variable`
    variables: dict[str, str] = field(default_factory=dict)
    # argument name -> int, for `arg: 25`
    numbers: dict[str, int] = field(default_factory=dict)

    def inputs(self, variables: dict[str, Any]) -> dict[str, Any]:
        """The resolver's inputs: each argument's variable value (or literal number)."""
        resolved: dict[str, Any] = dict(self.numbers)
        resolved.update({arg: variables.get(var) for arg, var in self.variables.items()})
        return resolved


@dataclass
class Operation:
    kind: str
    fields: list[RootField]
    requested_cost: int


def _blank(query: str) -> str:
    return _COMMENT.sub("", _STRING.sub('""', query))


def _root_selection(text: str) -> tuple[str, list[str]]:
    """The depth-1 text of the first selection set, with each argument list replaced by
    a `(#n)` placeholder, and the argument texts."""
    top: list[str] = []
    args: list[str] = []
    brace = paren = 0
    started = False
    current_args: list[str] = []
    for char in text:
        if paren:
            if char == "(":
                paren += 1
            elif char == ")":
                paren -= 1
                if paren == 0 and brace == 1:
                    top.append(f"(#{len(args)})")
                    args.append("".join(current_args))
                    current_args = []
                    continue
            if brace == 1:
                current_args.append(char)
            continue
        if char == "(":
            paren = 1
            continue
        if char == "{":
            brace += 1
            started = True
            if brace == 2:
                top.append(" ")
            continue
        if char == "}":
            brace -= 1
            if started and brace == 0:
                break
            continue
        if brace == 1:
            top.append(char)
    return "".join(top), args


def parse_operation(query: str, variables: dict[str, Any] | None = None) -> Operation:
    """Kind ("query" or "mutation"), root fields and a rough requested cost."""
    variables = variables or {}
    text = _blank(query)
    head = re.match(r"\s*(query|mutation|subscription)\b", text)
    kind = head.group(1) if head else "query"
    top, args = _root_selection(text)
    top = re.sub(r"\.\.\.\s*\w+|@\w+(?:\(#\d+\))?", " ", top)
    fields: list[RootField] = []
    for match in _FIELD.finditer(top):
        arg_text = args[int(match["args"])] if match["args"] is not None else ""
        fields.append(
            RootField(
                name=match["name"],
                alias=match["alias"] or match["name"],
                variables=dict(_VARIABLE_ARG.findall(arg_text)),
                numbers={k: int(v) for k, v in _NUMBER_ARG.findall(arg_text)},
            )
        )
    return Operation(kind=kind, fields=fields, requested_cost=_cost(kind, fields, text, variables))


def _cost(kind: str, fields: list[RootField], text: str, variables: dict[str, Any]) -> int:
    # "GraphQL Admin API rate limits": objects cost 1, a mutation 10, a connection about
    # the number of nodes it asks for. This is an estimate, not Shopify's calculation.
    if kind == "mutation":
        return MUTATION_COST * max(1, len(fields))
    cost = max(1, len(fields))
    for literal, variable in _PAGE_SIZE.findall(text):
        size = int(literal) if literal else variables.get(variable)
        if isinstance(size, int):
            cost += size
    return cost
