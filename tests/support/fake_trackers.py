"""Fake Jira and GitHub Issues servers on 127.0.0.1, for the tracker adapters.

Each keeps its issues in memory, checks credentials the way the real API
does (Jira: basic auth with an e-mail and an API token; GitHub: a bearer
token), answers in the real API's shapes, and records every request.
`fail_next(n, status)` answers the next n requests with an error;
`lose_next_answer()` creates the next issue but answers 502, as when the
answer is lost on the way back; `echo_auth_next(n, status)` answers the
next n requests with an error that quotes the request's Authorization
header back, in every shape a careless far side might.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: Any


@dataclass
class _State:
    requests: list[Seen] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    echoes: list[int] = field(default_factory=list)
    lose_answer: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeTracker:
    """The server; a subclass answers one API in `route`."""

    def __init__(self) -> None:
        self.state = _State()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                seen = Seen(self.command, parts.path, parse_qs(parts.query),
                            {k.lower(): v for k, v in self.headers.items()},
                            json.loads(raw) if raw else None)
                with fake.state.lock:
                    fake.state.requests.append(seen)
                    failure = fake.state.failures.pop(0) if fake.state.failures else None
                    echo = fake.state.echoes.pop(0) if fake.state.echoes else None
                    if echo is not None:
                        status, answer = echo, _echoed(seen.headers.get("authorization", ""))
                    elif failure is not None:
                        status, answer = failure, {"message": "fake failure"}
                    else:
                        status, answer = fake.route(seen)
                        if fake.state.lose_answer and seen.method == "POST" and status < 300:
                            fake.state.lose_answer = False
                            status, answer = 502, {"message": "bad gateway"}
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> list[Seen]:
        with self.state.lock:
            return list(self.state.requests)

    @property
    def issues(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return list(self.state.issues)

    def fail_next(self, count: int, status: int = 503) -> None:
        with self.state.lock:
            self.state.failures.extend([status] * count)

    def echo_auth_next(self, count: int, status: int = 400) -> None:
        with self.state.lock:
            self.state.echoes.extend([status] * count)

    def lose_next_answer(self) -> None:
        with self.state.lock:
            self.state.lose_answer = True

    def route(self, seen: Seen) -> tuple[int, Any]:
        raise NotImplementedError

    def __enter__(self) -> FakeTracker:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()


def _echoed(header: str) -> dict[str, Any]:
    """An error body quoting the Authorization header whole, its credential alone and,
    for basic auth, the decoded `email:token`."""
    scheme, _, credential = header.partition(" ")
    words = [f"bad request; you sent Authorization: {header}", f"credential {credential}"]
    if scheme == "Basic":
        words.append(f"decoded {base64.b64decode(credential).decode()}")
    return {"errorMessages": words, "errors": {"authorization": header},
            "message": f"Bad request with {header}"}


class FakeJira(FakeTracker):
    """Jira REST v2: create an issue, read one, search by label."""

    def __init__(self, email: str, token: str) -> None:
        super().__init__()
        self._auth = "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()

    def set_status(self, key: str, name: str, category: str) -> None:
        with self.state.lock:
            for issue in self.state.issues:
                if issue["key"] == key:
                    issue["fields"]["status"] = {"name": name, "statusCategory": {"key": category}}

    def route(self, seen: Seen) -> tuple[int, Any]:
        if seen.headers.get("authorization") != self._auth:
            return 401, {"errorMessages": ["You are not authenticated."], "errors": {}}
        version = re.match(r"/rest/api/([23])/", seen.path)
        if version is None:
            return 404, {"errorMessages": ["no such endpoint"]}
        # Both versions take the same calls; v3 wants the description as a document.
        seen = Seen(seen.method, seen.path.replace(f"/rest/api/{version.group(1)}/",
                                                   "/rest/api/2/"),
                    seen.query, seen.headers, seen.body)
        if seen.method == "POST" and seen.path == "/rest/api/2/issue":
            fields = seen.body["fields"]
            missing = [k for k in ("project", "summary", "issuetype") if k not in fields]
            if missing:
                return 400, {"errorMessages": [], "errors": {k: "required" for k in missing}}
            wants_document = version.group(1) == "3"
            if isinstance(fields.get("description"), dict) != wants_document:
                return 400, {"errorMessages": [], "errors": {
                    "description": "Operation value must be an Atlassian Document"
                    if wants_document else "Operation value must be a string"}}
            key = f"{fields['project']['key']}-{len(self.state.issues) + 1}"
            self.state.issues.append({"id": str(10000 + len(self.state.issues)), "key": key,
                                      "fields": {**fields, "status": {
                                          "name": "To Do", "statusCategory": {"key": "new"}}}})
            return 201, {"id": self.state.issues[-1]["id"], "key": key,
                         "self": f"{self.base_url}/rest/api/2/issue/{key}"}
        if seen.method == "GET" and seen.path == "/rest/api/2/search":
            label = re.search(r'labels = "([^"]+)"', seen.query["jql"][0])
            found = [{"key": i["key"], "fields": {"status": i["fields"]["status"]}}
                     for i in self.state.issues
                     if label and label.group(1) in i["fields"].get("labels", [])]
            return 200, {"total": len(found), "issues": found}
        match = re.fullmatch(r"/rest/api/2/issue/([A-Z]+-\d+)", seen.path)
        if seen.method == "GET" and match:
            for issue in self.state.issues:
                if issue["key"] == match.group(1):
                    return 200, {"key": issue["key"],
                                 "fields": {"status": issue["fields"]["status"]}}
            return 404, {"errorMessages": ["Issue does not exist"], "errors": {}}
        return 404, {"errorMessages": ["no such endpoint"]}


class FakeGitHub(FakeTracker):
    """GitHub REST: create an issue in a repository, read one, list by label."""

    def __init__(self, repo: str, token: str) -> None:
        super().__init__()
        self._repo = repo
        self._token = token

    def set_state(self, number: int, state: str) -> None:
        with self.state.lock:
            self.state.issues[number - 1]["state"] = state

    def route(self, seen: Seen) -> tuple[int, Any]:
        if seen.headers.get("authorization") != f"Bearer {self._token}":
            return 401, {"message": "Bad credentials"}
        base = f"/repos/{self._repo}/issues"
        if seen.method == "POST" and seen.path == base:
            if not seen.body.get("title"):
                return 422, {"message": "Validation Failed"}
            number = len(self.state.issues) + 1
            issue = {"number": number, "state": "open", "title": seen.body["title"],
                     "body": seen.body.get("body"), "labels": [{"name": n} for n in
                                                               seen.body.get("labels", [])],
                     "html_url": f"https://github.test/{self._repo}/issues/{number}"}
            self.state.issues.append(issue)
            return 201, issue
        if seen.method == "GET" and seen.path == base:
            label = seen.query.get("labels", [""])[0]
            return 200, [i for i in self.state.issues
                         if label in [entry["name"] for entry in i["labels"]]]
        match = re.fullmatch(re.escape(base) + r"/(\d+)", seen.path)
        if seen.method == "GET" and match and int(match.group(1)) <= len(self.state.issues):
            return 200, self.state.issues[int(match.group(1)) - 1]
        return 404, {"message": "Not Found"}
