"""A fake Twilio REST API (2010-04-01 Messages and Calls) on 127.0.0.1.

    with FakeTwilio() as twilio:
        ...POST f"{twilio.api_url}/2010-04-01/Accounts/{twilio.account_sid}/Messages.json"
        assert twilio.requests[0].form["Body"] == "..."

It checks what Twilio checks before it accepts a message or a call, and
answers in Twilio's shapes, so both our notifier and the real `twilio`
client can be pointed at it (tests/notify/test_twilio_fake.py checks the
second):

- HTTP basic auth with the account id and auth token, and the same account
  id in the path: else 401 `{"code": 20003, "message": "Authenticate", ...}`;
- only `POST .../Accounts/{sid}/Messages.json` and `.../Calls.json`: else
  404 with code 20404;
- a form body (`application/x-www-form-urlencoded`); anything else is read
  as an empty form, as Twilio does, and fails on the first required field;
- Messages: `To` (21604), `From` (21603), `Body` (21602) present, `Body` at
  most 1600 characters (21617), `To` in E.164 and not `INVALID_NUMBER`
  (21211), `From` a number of this account (21606), `StatusCallback` an
  http(s) URL (21609);
- Calls: `To` (21201), `From` (21213), one of `Url`, `Twiml` or
  `ApplicationSid` (21205), `Twiml` at most 4000 characters (32018) and
  well-formed with a `<Response>` root (12100), `To` as for Messages
  (21211), `From` a number of this account (21210).

A success is 201 with the Message or Call resource (`sid` SM... or CA...,
`status: queued`, `num_segments` counted by the SMS segment rules). Errors
are `{"code", "message", "more_info", "status"}`. Failures can be scripted
(429 with Retry-After, a bare 5xx, a stalled answer). Every request is
recorded, accepted or not.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
import threading
import uuid
import xml.etree.ElementTree as ElementTree
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-auth-token-7e6d5c4b"
FROM_NUMBER = "+15005550006"
# Twilio's test credentials answer 21211 for this well-formed number; so does the fake.
INVALID_NUMBER = "+15005550001"
API_VERSION = "2010-04-01"

_PATH = re.compile(rf"/{API_VERSION}/Accounts/([^/]+)/(Messages|Calls)\.json")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_DOUBLE = frozenset("\f^{}\\[~]|€")


@dataclass(frozen=True)
class TwilioRequest:
    method: str
    path: str
    resource: str | None  # "Messages" | "Calls" | None for an unknown path
    form: dict[str, str]  # the last value of each field
    pairs: list[tuple[str, str]]  # every field in order, repeats kept
    authorization: str | None
    headers: dict[str, str]  # names lower-cased
    status: int = 0  # what the fake answered; 0 when it stalled
    sid: str | None = None


@dataclass(frozen=True)
class _Scripted:
    status: int
    body: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0


class _Refusal(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class FakeTwilio:
    def __init__(
        self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN,
        numbers: tuple[str, ...] = (FROM_NUMBER,),
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.numbers = numbers
        self.requests: list[TwilioRequest] = []
        self._script: deque[_Scripted] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def api_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeTwilio:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # Scripting: each request takes the oldest scripted answer, if any.

    def rate_limit_next(self, retry_after: int = 1, count: int = 1) -> None:
        body = _error(429, 20429, "Too Many Requests")
        self._push(count, _Scripted(429, body, {"Retry-After": str(retry_after)}))

    def server_error_next(self, status: int = 503, count: int = 1) -> None:
        """A bare 5xx with an HTML body, as a load balancer in front of the API answers."""
        self._push(count, _Scripted(status, None))

    def stall_next(self, seconds: float) -> None:
        """Hold the next answer for `seconds`, to make the client time out (recorded as 0)."""
        self._push(1, _Scripted(0, None, delay_seconds=seconds))

    def accepted(self, resource: str) -> list[TwilioRequest]:
        with self._lock:
            return [r for r in self.requests if r.resource == resource and r.status == 201]

    def _push(self, count: int, answer: _Scripted) -> None:
        with self._lock:
            self._script.extend([answer] * count)

    def _answer(self, request: TwilioRequest) -> tuple[_Scripted, TwilioRequest]:
        with self._lock:
            scripted = self._script.popleft() if self._script else None
        answer = scripted or self._evaluate(request)
        sid = answer.body.get("sid") if answer.body and answer.status == 201 else None
        recorded = dataclasses.replace(request, status=answer.status, sid=sid)
        with self._lock:
            self.requests.append(recorded)
        return answer, recorded

    def _evaluate(self, request: TwilioRequest) -> _Scripted:
        try:
            resource, form = self._check(request)
            body = _message(self, form) if resource == "Messages" else _call(self, form)
            return _Scripted(201, body)
        except _Refusal as refusal:
            return _Scripted(refusal.status, _error(refusal.status, refusal.code,
                                                    refusal.message))

    def _check(self, request: TwilioRequest) -> tuple[str, dict[str, str]]:
        found = _PATH.fullmatch(request.path)
        if request.method != "POST" or found is None:
            raise _Refusal(404, 20404, f"The requested resource {request.path} was not found")
        user, password = _basic_auth(request.authorization)
        if (user, password) != (self.account_sid, self.auth_token) or found[1] != user:
            raise _Refusal(401, 20003, "Authenticate")
        if found[2] == "Messages":
            _check_message(self, request.form)
        else:
            _check_call(self, request.form)
        return found[2], request.form


def _check_message(fake: FakeTwilio, form: dict[str, str]) -> None:
    to, sender, body = form.get("To"), form.get("From"), form.get("Body")
    if not to:
        raise _Refusal(400, 21604, "A 'To' phone number is required.")
    if not sender and not form.get("MessagingServiceSid"):
        raise _Refusal(400, 21603, "A 'From' phone number is required.")
    if not body and not form.get("MediaUrl") and not form.get("ContentSid"):
        raise _Refusal(400, 21602, "Message body is required.")
    if body is not None and len(body) > 1600:
        raise _Refusal(400, 21617, "The concatenated message body exceeds the 1600 character "
                                   "limit.")
    if not _E164.fullmatch(to) or to == INVALID_NUMBER:
        raise _Refusal(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if sender and sender not in fake.numbers:
        raise _Refusal(400, 21606, f"The From phone number {sender} is not a valid, "
                                   "SMS-capable inbound phone number or short code for your "
                                   "account.")
    _check_callback(form)


def _check_call(fake: FakeTwilio, form: dict[str, str]) -> None:
    to, sender, twiml = form.get("To"), form.get("From"), form.get("Twiml")
    if not to:
        raise _Refusal(400, 21201, "No 'To' number is specified")
    if not sender:
        raise _Refusal(400, 21213, "No 'From' number is specified")
    if not (form.get("Url") or twiml or form.get("ApplicationSid")):
        raise _Refusal(400, 21205, "Url, Twiml or ApplicationSid is required")
    if twiml is not None:
        if len(twiml) > 4000:
            raise _Refusal(400, 32018, "Twiml size exceeded maximum allowed value of 4000 "
                                       "characters")
        try:
            root = ElementTree.fromstring(twiml)  # noqa: S314 - our own tests' input
        except ElementTree.ParseError as exc:
            raise _Refusal(400, 12100, "Document parse failure") from exc
        if root.tag != "Response":
            raise _Refusal(400, 12100, "Document parse failure")
    if not _E164.fullmatch(to) or to == INVALID_NUMBER:
        raise _Refusal(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if sender not in fake.numbers:
        raise _Refusal(400, 21210, f"The source phone number provided, {sender}, is not yet "
                                   "verified for your account.")
    _check_callback(form)


def _check_callback(form: dict[str, str]) -> None:
    callback = form.get("StatusCallback")
    if callback is not None and not re.match(r"https?://\S+$", callback):
        raise _Refusal(400, 21609, "Invalid StatusCallback url")


def _basic_auth(header: str | None) -> tuple[str, str]:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user, _, password = decoded.partition(":")
    return user, password


def segments(body: str) -> int:
    """How many SMS segments `body` is sent as (153 / 67 a part once it is split)."""
    if all(ch in _GSM7 or ch in _GSM7_DOUBLE for ch in body):
        size, single, part = sum(2 if ch in _GSM7_DOUBLE else 1 for ch in body), 160, 153
    else:
        size, single, part = sum(2 if ord(ch) > 0xFFFF else 1 for ch in body), 70, 67
    return 1 if size <= single else -(-size // part)


def _common(fake: FakeTwilio, prefix: str, resource: str, form: dict[str, str]) -> dict[str, Any]:
    sid = prefix + uuid.uuid4().hex
    now = format_datetime(datetime.now(UTC), usegmt=True)
    uri = f"/{API_VERSION}/Accounts/{fake.account_sid}/{resource}/{sid}.json"
    return {"sid": sid, "account_sid": fake.account_sid, "to": form["To"],
            "from": form.get("From"), "status": "queued", "direction": "outbound-api",
            "api_version": API_VERSION, "date_created": now, "date_updated": now,
            "price": None, "price_unit": "USD", "uri": uri}


def _message(fake: FakeTwilio, form: dict[str, str]) -> dict[str, Any]:
    body = form.get("Body", "")
    resource = _common(fake, "SM", "Messages", form)
    media = resource["uri"].removesuffix(".json") + "/Media.json"
    return {**resource, "body": body, "num_segments": str(segments(body)), "num_media": "0",
            "date_sent": None, "error_code": None, "error_message": None,
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "subresource_uris": {"media": media}}


def _call(fake: FakeTwilio, form: dict[str, str]) -> dict[str, Any]:
    resource = _common(fake, "CA", "Calls", form)
    base = resource["uri"].removesuffix(".json")
    return {**resource, "to_formatted": form["To"], "from_formatted": form.get("From"),
            "parent_call_sid": None, "phone_number_sid": "PN" + uuid.uuid4().hex,
            "start_time": None, "end_time": None, "duration": None, "answered_by": None,
            "forwarded_from": None, "caller_name": None, "group_sid": None, "queue_time": "0",
            "trunk_sid": None,
            "subresource_uris": {"notifications": f"{base}/Notifications.json",
                                 "recordings": f"{base}/Recordings.json"}}


def _error(status: int, code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


def _handler_for(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self._handle("POST")

        def do_GET(self) -> None:
            self._handle("GET")

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            content_type = self.headers.get("Content-Type", "")
            pairs: list[tuple[str, str]] = []
            if content_type.startswith("application/x-www-form-urlencoded"):
                pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
            path = self.path.split("?", 1)[0]
            found = _PATH.fullmatch(path)
            request = TwilioRequest(
                method=method, path=path, resource=found[2] if found else None,
                form=dict(pairs), pairs=pairs, authorization=self.headers.get("Authorization"),
                headers={name.lower(): value for name, value in self.headers.items()},
            )
            answer, _ = fake._answer(request)
            if answer.delay_seconds:
                fake._stopping.wait(answer.delay_seconds)
                return  # the client has given up; close without an answer
            self._reply(answer)

        def _reply(self, answer: _Scripted) -> None:
            if answer.body is None:
                payload, content_type = b"<html><body>bad gateway</body></html>", "text/html"
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
            pass  # the requests list is the record tests read

    return Handler
