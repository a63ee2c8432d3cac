"""Reads just enough of a GraphQL document to answer it.

This is deliberately not a GraphQL parser: a tokenizer and a brace walker that find the
operation (the first one, or the one `operationName` names), its kind, and the tree of
selected fields with their aliases and arguments (`arg: $variable`, or a literal integer,
string, enum name, boolean or list of those).
Named fragments and inline fragments are expanded; type conditions and directives are
ignored, and nothing is checked against a schema beyond "is this root field known"
(docs/standin.md, "Where it departs from Shopify").
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r'"""[\s\S]*?"""|"(?:\\.|[^"\\])*"|#[^\n]*|\.\.\.|\$\w+|[_A-Za-z]\w*'
    r"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[{}()\[\]:=!@|&]"
)
_PAGE_ARGS = ("first", "last")
MUTATION_COST = 10


class GraphQLSyntaxError(ValueError):
    """The document could not be read."""


@dataclass
class Selection:
    name: str
    alias: str
    # argument name -> variable name, for `arg: $variable`
    variables: dict[str, str] = field(default_factory=dict)
    # argument name -> literal value: `arg: 25`, `arg: "text"`, `arg: MAIN`, `arg: [MAIN]`
    numbers: dict[str, Any] = field(default_factory=dict)
    # None for a leaf (scalar) field
    fields: list[Selection] | None = None

    def inputs(self, variables: dict[str, Any]) -> dict[str, Any]:
        """The field's arguments: each variable's value, or the literal."""
        resolved: dict[str, Any] = dict(self.numbers)
        resolved.update({arg: variables.get(var) for arg, var in self.variables.items()})
        return resolved

    def page_size(self, variables: dict[str, Any]) -> int | None:
        arguments = self.inputs(variables)
        for name in _PAGE_ARGS:
            if isinstance(arguments.get(name), int):
                return arguments[name]
        return None


@dataclass
class Operation:
    kind: str
    fields: list[Selection]
    requested_cost: int


def _tokens(query: str) -> list[str]:
    return [token for token in _TOKEN.findall(query) if not token.startswith("#")]


def _literal(tokens: list[str]) -> tuple[bool, Any]:
    """A literal argument value's tokens as Python: (False, None) when it isn't one read here
    (an input object, or a list holding one)."""
    if tokens and tokens[0] == "[" and tokens[-1] == "]":
        items = []
        for token in tokens[1:-1]:
            known, value = _literal([token])
            if not known:
                return False, None
            items.append(value)
        return True, items
    if len(tokens) != 1:
        return False, None
    token = tokens[0]
    if token.startswith('"""'):
        return True, token[3:-3]
    if token.startswith('"'):
        # GraphQL's string escapes are JSON's (with \u{…} aside, which nobody sends here).
        return True, json.loads(token)
    if re.fullmatch(r"-?\d+", token):
        return True, int(token)
    if token in ("true", "false"):
        return True, token == "true"
    if token == "null":
        return True, None
    if re.fullmatch(r"[_A-Za-z]\w*", token):
        return True, token
    return False, None


class _Reader:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> str:
        return self.tokens[self.at] if self.at < len(self.tokens) else ""

    def take(self) -> str:
        token = self.peek()
        if not token:
            raise GraphQLSyntaxError("unexpected end of document")
        self.at += 1
        return token

    def skip_group(self, opening: str, closing: str) -> list[str]:
        """Skip a balanced (…) or […] group; return the tokens inside it."""
        if self.take() != opening:
            raise GraphQLSyntaxError(f"expected {opening!r}")
        depth, inside = 1, []
        while depth:
            token = self.take()
            depth += (token == opening) - (token == closing)
            if depth:
                inside.append(token)
        return inside

    def skip_directives(self) -> None:
        while self.peek() == "@":
            self.take()
            self.take()
            if self.peek() == "(":
                self.skip_group("(", ")")

    def selection_set(self) -> list[Selection | str]:
        """`{ … }`: fields, and fragment spreads as the fragment's name."""
        if self.take() != "{":
            raise GraphQLSyntaxError("expected a selection set")
        items: list[Selection | str] = []
        while self.peek() != "}":
            if self.peek() == "...":
                self.take()
                if self.peek() == "on" or self.peek() in ("{", "@"):
                    if self.peek() == "on":
                        self.take()
                        self.take()
                    self.skip_directives()
                    items.extend(self.selection_set())
                else:
                    items.append(self.take())
                    self.skip_directives()
                continue
            items.append(self.field())
        self.take()
        return items

    def field(self) -> Selection:
        alias = name = self.take()
        if self.peek() == ":":
            self.take()
            name = self.take()
        selection = Selection(name=name, alias=alias)
        if self.peek() == "(":
            arguments = self.skip_group("(", ")")
            for key, value in _arguments(arguments):
                if len(value) == 1 and value[0].startswith("$"):
                    selection.variables[key] = value[0][1:]
                else:
                    known, literal = _literal(value)
                    if known:
                        selection.numbers[key] = literal
        self.skip_directives()
        if self.peek() == "{":
            selection.fields = self.selection_set()  # type: ignore[assignment]
        return selection


def _arguments(tokens: list[str]) -> list[tuple[str, list[str]]]:
    """Split an argument list's tokens into (name, value tokens)."""
    found: list[tuple[str, list[str]]] = []
    at = 0
    while at + 1 < len(tokens):
        key, colon = tokens[at], tokens[at + 1]
        if colon != ":" or not re.fullmatch(r"\w+", key):
            at += 1
            continue
        end, depth = at + 2, 0
        while end < len(tokens):
            if tokens[end] in ("[", "{"):
                depth += 1
            elif tokens[end] in ("]", "}"):
                depth -= 1
            end += 1
            if depth == 0:
                break
        found.append((key, tokens[at + 2 : end]))
        at = end
    return found


def _expand(
    items: list[Any] | None, fragments: dict[str, list[Any]], seen: frozenset[str] = frozenset()
) -> list[Selection] | None:
    if items is None:
        return None
    expanded: list[Selection] = []
    for item in items:
        if isinstance(item, str):
            if item in fragments and item not in seen:
                expanded.extend(_expand(fragments[item], fragments, seen | {item}) or [])
            continue
        item.fields = _expand(item.fields, fragments, seen)
        expanded.append(item)
    return expanded


def parse_operation(
    query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None
) -> Operation:
    """The operation to run: kind, selected fields, and an estimated requested cost.

    Raises GraphQLSyntaxError when the document can't be read.
    """
    reader = _Reader(_tokens(query))
    fragments: dict[str, list[Any]] = {}
    operations: list[tuple[str, str, list[Any]]] = []
    while reader.peek():
        token = reader.peek()
        if token == "fragment":
            reader.take()
            name = reader.take()
            reader.take()  # on
            reader.take()  # type
            reader.skip_directives()
            fragments[name] = reader.selection_set()
        elif token == "{":
            operations.append(("query", "", reader.selection_set()))
        elif token in ("query", "mutation", "subscription"):
            reader.take()
            name = reader.take() if re.fullmatch(r"[_A-Za-z]\w*", reader.peek()) else ""
            if reader.peek() == "(":
                reader.skip_group("(", ")")
            reader.skip_directives()
            operations.append((token, name, reader.selection_set()))
        else:
            raise GraphQLSyntaxError(f"unexpected {token!r}")
    if not operations:
        raise GraphQLSyntaxError("no operation in the document")
    chosen = next(
        (op for op in operations if operation_name and op[1] == operation_name), operations[0]
    )
    kind, _, items = chosen
    selected = _expand(items, fragments) or []
    return Operation(
        kind=kind, fields=selected, requested_cost=_cost(kind, selected, variables or {})
    )


def _node_fields(fields: list[Selection]) -> list[Selection] | None:
    for item in fields:
        if item.name == "nodes" and item.fields is not None:
            return item.fields
        if item.name == "edges" and item.fields is not None:
            for inner in item.fields:
                if inner.name == "node" and inner.fields is not None:
                    return inner.fields
    return None


def _fields_cost(fields: list[Selection], variables: dict[str, Any]) -> int:
    # "GraphQL Admin API rate limits": scalars cost 0, objects 1, a connection 2 plus its
    # page size times the cost of one node. An estimate, not Shopify's calculation.
    total = 0
    for item in fields:
        if item.fields is None:
            continue
        size = item.page_size(variables)
        nodes = _node_fields(item.fields) if size is not None else None
        if size is not None and nodes is not None:
            total += 2 + size * (1 + _fields_cost(nodes, variables))
        else:
            total += 1 + _fields_cost(item.fields, variables)
    return total


def _cost(kind: str, fields: list[Selection], variables: dict[str, Any]) -> int:
    if kind == "mutation":
        return MUTATION_COST * max(1, len(fields))
    return max(1, _fields_cost(fields, variables))


# A field whose value depends on its arguments: called with them (`Selection.inputs`).
FieldResolver = Callable[[dict[str, Any]], Any]


def project(
    value: Any,
    fields: list[Selection] | None,
    type_name: str,
    errors: list[dict[str, Any]],
    variables: dict[str, Any] | None = None,
) -> Any:
    """Keep only what was selected, under its alias, as a GraphQL server answers.

    The resolver's object stands for its type: a selected field it lacks is reported in
    `errors` the way graphql-ruby reports a field that isn't in the schema. A field whose
    value is callable (a FieldResolver) is called with that selection's arguments.
    """
    if fields is None or value is None:
        return value
    if isinstance(value, list):
        return [project(item, fields, type_name, errors, variables) for item in value]
    if not isinstance(value, dict):
        return value
    own_type = value.get("__typename", type_name)
    answer: dict[str, Any] = {}
    for item in fields:
        if item.name == "__typename":
            answer[item.alias] = own_type
        elif item.name in value:
            inner_type = item.name[:1].upper() + item.name[1:]
            inner = value[item.name]
            if callable(inner):
                inner = inner(item.inputs(variables or {}))
            answer[item.alias] = project(inner, item.fields, inner_type, errors, variables)
        else:
            errors.append(undefined_field(item.name, own_type))
    return answer


def undefined_field(name: str, type_name: str) -> dict[str, Any]:
    return {
        "message": f"Field '{name}' doesn't exist on type '{type_name}'",
        "extensions": {"code": "undefinedField", "typeName": type_name, "fieldName": name},
    }
