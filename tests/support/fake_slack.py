"""A fake Slack Web API on 127.0.0.1, for tests that drive the real slack_sdk client.

    with FakeSlack() as slack:
        client = WebClient(token="xoxb-test", base_url=slack.base_url)
        client.chat_postMessage(channel="U1", text="hi")
        assert slack.calls[0].method == "chat.postMessage"

It answers `POST <base_url><method>` the way Slack does: HTTP 200 with
`{"ok": true, ...}`, or a scripted failure (`{"ok": false, "error": ...}`,
HTTP 429 with `Retry-After`, or a bare 5xx). Every call is recorded with its
parameters (form or JSON) and its Authorization header. Messages posted
with `chat.postMessage` are kept by (channel, ts) as Slack answered them;
`chat.update` replaces one (`message_not_found` for any other channel or
ts), and `chat.postEphemeral` is answered with a `message_ts`.

Channels, for the incident bot: `conversations.create` makes one (the bot
its first member; `name_taken` when the name exists, `invalid_name` for
one Slack would refuse), `conversations.setTopic`, `conversations.invite`
(`already_in_channel` when every user named is a member already) and
`conversations.join` change it, and `conversations.history` (a GET, as
slack_sdk sends it) reads what was posted there, newest first. `say`
stands for a person typing a message into a channel.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

from tocsin.clock import Clock

API_PREFIX = "/api/"
BOT_USER = "U0TOCSINBOT"
# What Slack accepts as a channel name.
_CHANNEL_NAME = re.compile(r"[a-z0-9_-]{1,80}")


@dataclass
class FakeChannel:
    id: str
    name: str
    is_private: bool
    topic: str = ""
    members: list[str] = field(default_factory=lambda: [BOT_USER])
    # Every message in it, oldest first: {"type", "ts", "text", "user" or "bot_id"}.
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class SlackCall:
    method: str
    params: dict[str, Any]
    authorization: str | None
    headers: dict[str, str]  # names lower-cased
    raw_body: bytes


@dataclass(frozen=True)
class _Scripted:
    status: int
    body: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0


class FakeSlack:
    def __init__(self, clock: Clock | None = None) -> None:
        # Message timestamps (`ts`) read this clock's second when given, else a fixed one.
        self._clock = clock
        self.calls: list[SlackCall] = []
        self._script: deque[_Scripted] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._messages = 0
        # (channel, ts) -> the latest parameters posted or updated there.
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        # Every chat.postMessage answered: (channel, ts, parameters), oldest first.
        self.posts: list[tuple[str, str, dict[str, Any]]] = []
        self.channels: dict[str, FakeChannel] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        # A short poll keeps shutdown (once per test) from costing half a second.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{API_PREFIX}"

    def __enter__(self) -> FakeSlack:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()  # cut short any stalled answer
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # Scripting: each call takes the oldest scripted answer, if any.

    def fail_next(self, error: str = "invalid_auth", count: int = 1) -> None:
        """Answer HTTP 200 with `{"ok": false, "error": error}`."""
        self._push(count, _Scripted(200, {"ok": False, "error": error}))

    def rate_limit_next(self, retry_after: int = 30, count: int = 1) -> None:
        body = {"ok": False, "error": "ratelimited"}
        self._push(count, _Scripted(429, body, {"Retry-After": str(retry_after)}))

    def server_error_next(self, status: int = 503, count: int = 1) -> None:
        """Answer a bare 5xx with an HTML body, as a proxy in front of Slack would."""
        self._push(count, _Scripted(status, None))

    def stall_next(self, seconds: float) -> None:
        """Hold the next answer for `seconds`, to make the client time out."""
        self._push(1, _Scripted(200, None, delay_seconds=seconds))

    def channel_named(self, name: str) -> FakeChannel | None:
        with self._lock:
            return next((c for c in self.channels.values() if c.name == name), None)

    def add_channel(self, name: str, *, is_private: bool = False) -> FakeChannel:
        """A channel that exists before Tocsin looks (a name someone already took)."""
        with self._lock:
            return self._create_channel(name, is_private)

    def say(self, channel: str, user: str, text: str) -> str:
        """A person posts `text` into `channel`; the message's ts."""
        with self._lock:
            self._messages += 1
            ts = self._ts(self._messages)
            self.channels[channel].history.append(
                {"type": "message", "ts": ts, "text": text, "user": user})
            return ts

    def calls_to(self, method: str) -> list[SlackCall]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def _push(self, count: int, answer: _Scripted) -> None:
        with self._lock:
            self._script.extend([answer] * count)

    def _answer(self, call: SlackCall) -> _Scripted:
        with self._lock:
            self.calls.append(call)
            if self._script:
                return self._script.popleft()
            self._messages += 1
            return _Scripted(200, self._success(call, self._messages))

    def _success(self, call: SlackCall, sequence: int) -> dict[str, Any]:
        """Called with the lock held."""
        if call.method == "chat.update":
            key = (str(call.params.get("channel", "")), str(call.params.get("ts", "")))
            if key not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            self.messages[key] = dict(call.params)
            return {"ok": True, "channel": key[0], "ts": key[1], "text": call.params.get("text")}
        if call.method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._ts(sequence)}
        if call.method.startswith("conversations."):
            return self._conversations(call)
        answer = _success(call, self._ts(sequence))
        if call.method == "chat.postMessage":
            self.messages[(answer["channel"], answer["ts"])] = dict(call.params)
            self.posts.append((answer["channel"], answer["ts"], dict(call.params)))
            if answer["channel"] in self.channels:
                self.channels[answer["channel"]].history.append(
                    {"type": "message", "ts": answer["ts"], "text": call.params.get("text"),
                     "bot_id": "B0TOCSIN"})
        return answer

    def _conversations(self, call: SlackCall) -> dict[str, Any]:
        """Called with the lock held."""
        params = call.params
        if call.method == "conversations.create":
            name = str(params.get("name", ""))
            if not _CHANNEL_NAME.fullmatch(name):
                return {"ok": False, "error": "invalid_name_specials"}
            if any(c.name == name for c in self.channels.values()):
                return {"ok": False, "error": "name_taken"}
            private = str(params.get("is_private", "")).lower() in ("1", "true")
            return {"ok": True, "channel": _describe(self._create_channel(name, private))}
        channel = self.channels.get(str(params.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if call.method == "conversations.setTopic":
            channel.topic = str(params.get("topic", ""))
        elif call.method == "conversations.invite":
            users = [u for u in str(params.get("users", "")).split(",") if u]
            new = [u for u in users if u not in channel.members]
            if not users:
                return {"ok": False, "error": "no_user"}
            if not new:
                return {"ok": False, "error": "already_in_channel"}
            channel.members += new
        elif call.method == "conversations.join":
            if channel.is_private:
                return {"ok": False, "error": "method_not_supported_for_channel_type"}
            if BOT_USER not in channel.members:
                channel.members.append(BOT_USER)
        elif call.method == "conversations.history":
            return {"ok": True, "messages": _history(channel, params), "has_more": False}
        else:
            return {"ok": False, "error": "unknown_method"}
        return {"ok": True, "channel": _describe(channel)}

    def _ts(self, sequence: int) -> str:
        second = int(self._clock.now().timestamp()) if self._clock is not None else 1700000000
        return f"{second}.{sequence:06d}"

    def _create_channel(self, name: str, is_private: bool) -> FakeChannel:
        channel = FakeChannel(id=f"C0CHAN{len(self.channels) + 1:04d}", name=name,
                              is_private=is_private)
        self.channels[channel.id] = channel
        return channel


def _describe(channel: FakeChannel) -> dict[str, Any]:
    return {"id": channel.id, "name": channel.name, "is_channel": True,
            "is_private": channel.is_private, "topic": {"value": channel.topic},
            "num_members": len(channel.members)}


def _history(channel: FakeChannel, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Newest first, between `oldest` and `latest` (each end inclusive only if asked)."""
    inclusive = str(params.get("inclusive", "")).lower() in ("1", "true")
    latest, oldest = params.get("latest"), params.get("oldest")
    found = []
    for message in reversed(channel.history):
        ts = float(message["ts"])
        if latest is not None and (ts > float(latest) or (ts == float(latest)
                                                          and not inclusive)):
            continue
        if oldest is not None and (ts < float(oldest) or (ts == float(oldest)
                                                          and not inclusive)):
            continue
        found.append(dict(message))
    return found[: int(params.get("limit") or 100)]


def _success(call: SlackCall, ts: str) -> dict[str, Any]:
    if call.method != "chat.postMessage":
        return {"ok": True}
    channel = str(call.params.get("channel", ""))
    # A DM to a user id is answered with the DM channel's own id.
    answered_channel = "D" + channel[1:] if channel.startswith("U") else channel
    message = {"type": "message", "text": call.params.get("text"), "ts": ts}
    return {"ok": True, "channel": answered_channel, "ts": ts, "message": message}


def _parse_params(content_type: str, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        parsed = json.loads(body.decode("utf-8"))
        return parsed if isinstance(parsed, dict) else {}
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            self._handle(_parse_params(self.headers.get("Content-Type", ""), body), body)

        def do_GET(self) -> None:
            # slack_sdk sends read methods (conversations.history) as GET with a query.
            query = self.path.partition("?")[2]
            self._handle(dict(parse_qsl(query, keep_blank_values=True)), b"")

        def _handle(self, params: dict[str, Any], body: bytes) -> None:
            call = SlackCall(
                method=self.path.split("?", 1)[0].removeprefix(API_PREFIX),
                params=params,
                authorization=self.headers.get("Authorization"),
                headers={name.lower(): value for name, value in self.headers.items()},
                raw_body=body,
            )
            answer = fake._answer(call)
            if answer.delay_seconds:
                fake._stopping.wait(answer.delay_seconds)
                return  # the client has given up; close without an answer
            self._reply(answer)

        def _reply(self, answer: _Scripted) -> None:
            if answer.body is None:
                payload = b"<html><body>upstream error</body></html>"
                content_type = "text/html"
            else:
                payload = json.dumps(answer.body).encode("utf-8")
                content_type = "application/json; charset=utf-8"
            self.send_response(answer.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            # Quiet: the calls list is the record tests read.
            pass

    return Handler
