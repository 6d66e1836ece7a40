"""The public status page on its own host name: `status.example.com/` is `/status/`.

When `status_page.public_host` is set, a request whose Host header names it
sees only the status page, with its paths at the root (`/api/v2/summary.json`
where status widgets expect it, `/`, `/history.atom`). Every other path is
looked up under `/status/`, so the API, the UI and the integrations are never
reachable through the public name. Paths already under `/status/` and the
static files keep working, so the page's own links hold on either name.

`status_page.public_port` does the same for every request reaching `tocsin
serve` on that port (`PublicPort`, put around the app by `serve`).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from tocsin.engine.runtime import Runtime

_KEPT = ("/status/", "/static/")


class PublicPort:
    """Requests reaching the server on `port` see only the status page, as on
    `public_host`. The port is fixed when the server starts: a reload that
    changes `public_port` cannot open the API on the listener already bound."""

    def __init__(self, app: ASGIApp, port: int) -> None:
        self.app = app
        self.port = port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            server = scope.get("server")
            if server is not None and server[1] == self.port:
                scope = _moved(scope)
        await self.app(scope, receive, send)


class OwnHost:
    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            wanted = self.runtime.config_now().status_page.public_host
            if wanted is not None and _host(scope) == normal_host(wanted):
                scope = _moved(scope)
        await self.app(scope, receive, send)


def normal_host(text: str) -> str:
    """A host name as compared: lower case, no port, no final dot.

    `status.example.com.` (the fully qualified form) is the same name as
    `status.example.com`; leaving the dot would hand the full app to anyone
    who types it.
    """
    text = text.strip().lower()
    # "name:port" or "[v6]:port": the name is what the operator wrote.
    if text.startswith("["):
        return text.split("]", 1)[0] + "]"
    name = text.rsplit(":", 1)[0] if ":" in text else text
    return name[:-1] if name.endswith(".") else name


def _host(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"host":
            return normal_host(value.decode("latin-1"))
    return ""


def _moved(scope: Scope) -> Scope:
    path: str = scope["path"]
    if path.startswith(_KEPT):
        return scope
    moved = "/status" + path
    return {**scope, "path": moved, "raw_path": moved.encode()}
