"""The few WSGI pieces the stand-in needs: a parsed request, a response, a router."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

SHOP_PATTERN = r"[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com"


class Request:
    """One incoming request, read whole (the stand-in never streams)."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ
        self.method: str = environ["REQUEST_METHOD"].upper()
        self.path: str = environ.get("PATH_INFO", "") or "/"
        self.query_string: str = environ.get("QUERY_STRING", "")
        self.query: dict[str, list[str]] = parse_qs(self.query_string, keep_blank_values=True)
        self.headers: dict[str, str] = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            self.headers["content-type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.body: bytes = environ["wsgi.input"].read(length) if length else b""
        cookie = SimpleCookie()
        cookie.load(self.headers.get("cookie", ""))
        self.cookies: dict[str, str] = {name: morsel.value for name, morsel in cookie.items()}
        self.params: dict[str, str] = {}

    def arg(self, name: str, default: str = "") -> str:
        """First value of a query parameter."""
        return self.query.get(name, [default])[0]

    def json(self) -> Any:
        """The body as JSON; None when it is not valid JSON."""
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def fields(self) -> dict[str, Any]:
        """Query parameters merged with a JSON or form body (body wins)."""
        merged: dict[str, Any] = {key: values[0] for key, values in self.query.items()}
        content_type = self.headers.get("content-type", "")
        if "json" in content_type:
            body = self.json()
            if isinstance(body, dict):
                merged.update(body)
        elif self.body:
            form = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
            merged.update({key: values[0] for key, values in form.items()})
        return merged


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    def status_line(self) -> str:
        try:
            return f"{self.status} {HTTPStatus(self.status).phrase}"
        except ValueError:
            return f"{self.status} Unknown"


def json_response(status: int, data: Any, headers: Iterable[tuple[str, str]] = ()) -> Response:
    body = json.dumps(data).encode()
    return Response(status, body, [("Content-Type", "application/json; charset=utf-8"), *headers])


def text_response(status: int, text: str) -> Response:
    return Response(status, text.encode(), [("Content-Type", "text/plain; charset=utf-8")])


def redirect(location: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(302, b"", [("Location", location), *headers])


Handler = Callable[[Request], Response]


class Router:
    """Routes by method and a path regex whose named groups land in `request.params`."""

    def __init__(self) -> None:
        self._routes: list[tuple[frozenset[str], re.Pattern[str], Handler]] = []

    def add(self, methods: str, pattern: str, handler: Handler) -> None:
        compiled = re.compile("^" + pattern.replace("{shop}", f"(?P<shop>{SHOP_PATTERN})") + "$")
        self._routes.append((frozenset(methods.split()), compiled, handler))

    def dispatch(self, request: Request) -> Response:
        path_matched = False
        for methods, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if not match:
                continue
            path_matched = True
            if request.method in methods:
                request.params = {k: v or "" for k, v in match.groupdict().items()}
                return handler(request)
        if path_matched:
            return text_response(405, "Method Not Allowed")
        return json_response(404, {"errors": "Not Found"})
