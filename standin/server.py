"""The stand-in's HTTP server: a threaded stdlib WSGI server over in-memory state.

Every Shopify route lives under `/shops/<shop>/`, so one local origin serves many shops:
`origin_template` is what the app's `SHOPIFY_ADMIN_ORIGIN` setting takes.
"""

from __future__ import annotations

import logging
import socketserver
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from . import admin, cdn, control, graphql, oauth, proxy
from .state import DEFAULT_SCOPES, State
from .web import Request, Router, text_response

log = logging.getLogger("standin")


def build_router(state: State) -> Router:
    router = Router()

    def bind(handler: Callable[[State, Request], Any]) -> Callable[[Request], Any]:
        return lambda request: handler(state, request)

    router.add("POST", "/shops/{shop}/admin/oauth/access_token", bind(oauth.access_token))
    router.add("GET", "/shops/{shop}/admin/oauth/authorize", bind(oauth.authorize))
    router.add(
        "POST",
        r"/shops/{shop}/admin/api/(?P<version>\d{4}-\d{2}|unstable)/graphql\.json",
        bind(graphql.graphql),
    )
    router.add(
        "GET", r"/shops/{shop}/admin/apps/(?P<app>[^/]+)(?P<path>/.*)?", bind(admin.open_app)
    )
    router.add(
        "GET POST PUT PATCH DELETE",
        r"/shops/{shop}/apps/loyalty(?P<path>/.*)?",
        bind(proxy.app_proxy),
    )
    control.add_routes(router, state)
    cdn.add_routes(router, state)
    # Imported here: the storefront needs python-liquid (a dev dependency), which
    # `send_webhook` and the other users of standin.payloads in a production install lack.
    from . import storefront

    storefront.add_routes(router, state)
    return router


def make_app(state: State) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    router = build_router(state)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = router.dispatch(request)
        except Exception:
            # A stand-in bug must show up in the test output, not as a hung connection.
            log.error(
                "stand-in error on %s %s\n%s", request.method, request.path, traceback.format_exc()
            )
            response = text_response(500, traceback.format_exc())
        headers = [*response.headers, ("Content-Length", str(len(response.body)))]
        start_response(response.status_line(), headers)
        return [response.body]

    return app


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # stop() must not wait for a request the hang knob is holding.
    block_on_close = False


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


class Standin:
    """A running stand-in. `url` is its origin; `state` is its live memory."""

    def __init__(self, server: WSGIServer, state: State, host: str) -> None:
        self._server = server
        self.state = state
        self.url = f"http://{host}:{server.server_port}"
        self.origin_template = self.url + "/shops/{shop}"
        self._thread: threading.Thread | None = None

    def shop_url(self, shop: str) -> str:
        return self.origin_template.format(shop=shop)

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    def start_thread(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="standin", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def create(
    *,
    api_key: str,
    api_secret: str,
    app_url: str,
    host: str = "127.0.0.1",
    port: int = 0,
    scopes: Iterable[str] = DEFAULT_SCOPES,
) -> Standin:
    """Bind the server (port 0 picks a free one) without serving yet."""
    state = State(
        api_key=api_key, api_secret=api_secret, app_url=app_url.rstrip("/"), scopes=tuple(scopes)
    )
    server = make_server(
        host, port, make_app(state), server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    return Standin(server, state, host)


def start(
    *,
    api_key: str,
    api_secret: str,
    app_url: str,
    host: str = "127.0.0.1",
    port: int = 0,
    scopes: Iterable[str] = DEFAULT_SCOPES,
) -> Standin:
    """Run a stand-in in a daemon thread; call `.stop()` when done."""
    standin = create(
        api_key=api_key,
        api_secret=api_secret,
        app_url=app_url,
        host=host,
        port=port,
        scopes=scopes,
    )
    standin.start_thread()
    return standin


def serve_in_foreground(standin: Standin, *, api_key: str) -> None:
    """Say where the stand-in is and how to use it, then serve until interrupted."""
    print(f"Shopify stand-in on {standin.url} for the app at {standin.state.app_url}", flush=True)
    print(f"  run the app with SHOPIFY_ADMIN_ORIGIN={standin.origin_template}", flush=True)
    print(
        f"  open it as Shopify admin would: "
        f"{standin.url}/shops/<shop>.myshopify.com/admin/apps/{api_key}",
        flush=True,
    )
    try:
        standin.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()
