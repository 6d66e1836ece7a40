"""Reading a text reply to a page: `ACK 42`, `SNOOZE 42 30`, `esc #42.`, `resolve`.

    ACK 42 / ACKNOWLEDGE 42      acknowledge alert 42
    RES 42 / RESOLVE 42          resolve it
    SNOOZE 42 [MINUTES]          snooze it (30 minutes unless told)
    ESC 42 / ESCALATE 42         page the next escalation step now
    UNACK 42 / UNACKNOWLEDGE 42  back to triggered
    REASSIGN 42 bob              restart the escalation with a person or a schedule
    ADD 42 primary               page a person, a schedule or a policy beside it

Case does not matter; `#`, spaces and a trailing full stop are allowed. The
first number is always the alert's id, so `SNOOZE 30` snoozes alert 30;
the words after REASSIGN's or ADD's number name the target as typed (the
config decides what they mean). Without a number the reply names no alert
(the webhook then picks the one open alert texted to the sender, see
web.twilio_inbound).

Pure functions; no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ACK = "ack"
RESOLVE = "resolve"
SNOOZE = "snooze"
ESCALATE = "escalate"
UNACK = "unack"
REASSIGN = "reassign"
ADD = "add"

DEFAULT_SNOOZE_MINUTES = 30

_VERBS = {
    "ack": ACK, "acknowledge": ACK,
    "res": RESOLVE, "resolve": RESOLVE,
    "snooze": SNOOZE,
    "esc": ESCALATE, "escalate": ESCALATE,
    "unack": UNACK, "unacknowledge": UNACK,
}
_REPLY = re.compile(
    r"\s*(?P<verb>[a-z]+)"
    r"(?:\s*#?\s*(?P<alert>\d{1,12})"
    # Any whole number, signed or long, is read: one out of range is told the range.
    r"(?:\s+(?P<minutes>-?\d{1,30})\s*(?:m|min|mins|minutes?)?)?)?"
    r"\s*[.!]?\s*",
    re.IGNORECASE,
)
_TARGETED = re.compile(
    r"\s*(?P<verb>reassign|add)(?![a-z])"
    r"(?:\s*#?\s*(?P<alert>\d{1,12})\b)?"
    r"\s*(?P<target>.*?)\s*[.!]?\s*",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class Reply:
    verb: str
    alert_id: int | None  # None: the reply named no alert
    minutes: int = DEFAULT_SNOOZE_MINUTES  # snooze only
    target: str | None = None  # reassign and add: the name typed; None when none was


def parse_reply(text: str) -> Reply | None:
    """The action a reply asks for; None when it is not one Tocsin reads."""
    targeted = _TARGETED.fullmatch(text)
    if targeted is not None:
        alert = targeted["alert"]
        return Reply(targeted["verb"].lower(), int(alert) if alert is not None else None,
                     target=targeted["target"] or None)
    found = _REPLY.fullmatch(text)
    if found is None:
        return None
    verb = _VERBS.get(found["verb"].lower())
    if verb is None:
        return None
    if found["minutes"] is not None and verb != SNOOZE:
        return None  # "ACK 42 30": a second number means nothing here
    alert_id = int(found["alert"]) if found["alert"] is not None else None
    if found["minutes"] is None:
        return Reply(verb, alert_id)
    return Reply(verb, alert_id, int(found["minutes"]))
