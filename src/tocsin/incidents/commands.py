"""Reading the text of `/incident` and `/page` slash commands: pure, no I/O.

`parse_incident(text, severities=...)` gives one command value or a `Usage`
(a one-line reply naming the fix); `parse_page(text)` the same for `/page`.
Nothing here raises on any input: the web edge shows a `Usage` as an
ephemeral reply.

    /incident create "Payment API returning 500 errors" sev1
    /incident create Payment API returning 500 errors SEV1   (bare title)
    /incident create "Leaked API key" sev2 private          (a private incident)
    /incident create "Checkout down" sev1 service:payment,cart (pages their on-call)
    /incident role commander @bob          /incident status identified
    /incident severity sev2                /incident mitigated
    /incident resolve [note]               /incident note|update|impact TEXT
    /incident responder USER|SCHEDULE|POLICY
    /incident statuspage monitoring A fix is rolling out.  (a public status page update)
    /incident statuspage title="Payment delays" investigating We are looking into it.
    /incident help

Outside an incident's channel the incident is named after the verb
(`/incident note INC-142 rolled back`); `INC-142` before the verb works too.

A declare must name its severity: it decides who is paged (urgency, the
severity's `notify` list), so a default would either wake leadership for a
typo or under-page an outage. The reply lists the configured names.

Slack sends user mentions as `<@U123|bob>` or `<@U123>` and escapes `&`,
`<` and `>` in what people typed; free text (titles, notes, updates) is
turned back into plain text, mentions as `@name`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PRIVATE = "private"
STATUSES = ("investigating", "identified", "monitoring", "resolved")
# A public status page update's statuses (statuspage.rules.UPDATE_STATUSES).
PUBLIC_STATUSES = ("investigating", "identified", "monitoring", "resolved", "postmortem")
TITLE_LIMIT = 200
TEXT_LIMIT = 3000

_KEY = re.compile(r"(?i)inc-?(\d{1,9})")
_SLACK_MENTION = re.compile(r"<@([A-Z0-9]{2,40})(?:\|([^>]*))?>")
_NAME = re.compile(r"@?([\w.+'-][\w.+@'-]{0,199})")
# Straight quotes and the curly ones Slack's clients put in for them.
_OPEN_QUOTES = "\"“„«"
_CLOSE_QUOTES = "\"”“»"
_MARKUP = re.compile(r"<([^<>]*)>")
_SERVICES = re.compile(r"(?i)services?:[\w.-]+(,[\w.-]+)*,?")


@dataclass(frozen=True)
class Mention:
    """A person or a name: `slack_id` when Slack sent a user mention, else the name typed."""

    name: str
    slack_id: str | None = None


@dataclass(frozen=True)
class Create:
    title: str
    severity: str
    private: bool = False  # a security incident: a private channel, seen by members only
    services: tuple[str, ...] = ()  # affected services: their on-call engineers are paged


@dataclass(frozen=True)
class AssignRole:
    incident: str | None
    role: str
    person: Mention


@dataclass(frozen=True)
class SetStatus:
    incident: str | None
    status: str
    note: str | None = None


@dataclass(frozen=True)
class SetSeverity:
    incident: str | None
    severity: str


@dataclass(frozen=True)
class Mitigated:
    incident: str | None


@dataclass(frozen=True)
class Note:
    incident: str | None
    text: str


@dataclass(frozen=True)
class Update:
    incident: str | None
    text: str


@dataclass(frozen=True)
class Impact:
    incident: str | None
    text: str


@dataclass(frozen=True)
class StatusPage:
    """A public update on the status page: customers read `text`."""

    incident: str | None
    status: str
    text: str
    title: str | None = None  # the public title, typed as title="..." (needed when private)


@dataclass(frozen=True)
class AddResponder:
    incident: str | None
    target: Mention


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Usage:
    """Why the text is not a command, and what to type instead."""

    message: str


@dataclass(frozen=True)
class PageCommand:
    target: Mention
    message: str


IncidentCommand = (Create | AssignRole | SetStatus | SetSeverity | Mitigated | Note | Update
                   | Impact | AddResponder | StatusPage | Help)
OnIncident = (AssignRole | SetStatus | SetSeverity | Mitigated | Note | Update | Impact
              | AddResponder | StatusPage)

USAGES = {
    "create": '`/incident create "TITLE" SEVERITY [service:NAME,...] [private]`, e.g. '
              '`/incident create "Payment API returning 500 errors" SEV1`',
    "role": "`/incident role ROLE @person`, e.g. `/incident role commander @bob`",
    "status": "`/incident status " + "|".join(STATUSES) + "`",
    "severity": "`/incident severity SEVERITY`, e.g. `/incident severity SEV2`",
    "mitigated": "`/incident mitigated`",
    "resolve": "`/incident resolve [what fixed it]`",
    "note": "`/incident note TEXT`",
    "update": "`/incident update TEXT` (posted to the channel and to stakeholders)",
    "impact": "`/incident impact TEXT` (the customer-facing summary)",
    "responder": "`/incident responder @person|SCHEDULE|POLICY` (they are paged)",
    "statuspage": "`/incident statuspage [title=\"PUBLIC TITLE\"] "
                  + "|".join(PUBLIC_STATUSES) + " TEXT` "
                  "(public: customers read it on the status page)",
    "help": "`/incident help`",
}
_ALIASES = {"declare": "create", "new": "create", "resolved": "resolve",
            "mitigate": "mitigated", "sev": "severity", "roles": "role",
            "status-page": "statuspage"}
PAGE_USAGE = ("Usage: `/page @person|SCHEDULE|POLICY MESSAGE`, "
              "e.g. `/page primary-oncall checkout is failing`")
ELSEWHERE = ("Outside an incident's channel, name the incident after the command: "
             "`/incident note INC-142 TEXT`.")


def help_text(severities: tuple[str, ...], pin_emoji: str = "pushpin") -> str:
    lines = ["*/incident* runs an incident from Slack:"]
    lines += [f"• {usage}" for usage in USAGES.values()]
    lines.append(f"Severities: {', '.join(severities) or 'none configured'}.")
    lines.append(ELSEWHERE)
    lines.append(f"React with :{pin_emoji.strip(':')}: to a message in an incident's channel "
                 "to add it to the timeline. `/page` pages someone; `/oncall` says who is "
                 "on call.")
    return "\n".join(lines)


def parse_incident(text: str, *, severities: tuple[str, ...]) -> IncidentCommand | Usage:
    words = text.split(None, 1)
    if not words:
        return Help()
    incident: str | None = None
    verb, rest = words[0], (words[1] if len(words) > 1 else "")
    key = incident_key(verb)
    if key is not None:
        incident = key
        words = rest.split(None, 1)
        verb, rest = (words[0], words[1] if len(words) > 1 else "") if words else ("", "")
    verb = _ALIASES.get(verb.lower(), verb.lower())
    if verb not in USAGES:
        shown = plain_text(verb)[:40] or "(nothing)"
        return Usage(f"`{shown}` is not an /incident command. "
                     f"Try one of: {', '.join(USAGES)}; `/incident help` explains each.")
    if verb == "help":
        return Help()
    if verb == "create":
        return Usage("An incident is declared on its own; leave out the id. "
                     + _usage("create")) if incident else _create(rest, severities)
    first = rest.split(None, 1)
    if first and incident is None:
        key = incident_key(first[0])
        if key is not None:
            incident = key
            rest = first[1] if len(first) > 1 else ""
    return _on_incident(verb, incident, rest.strip(), severities)


def incident_key(word: str) -> str | None:
    """`INC-142` (any case, dash optional) as `INC-142`; None for anything else."""
    found = _KEY.fullmatch(word.strip())
    return f"INC-{int(found.group(1))}" if found else None


def parse_page(text: str) -> PageCommand | Usage:
    words = text.split(None, 1)
    if len(words) < 2:
        return Usage(PAGE_USAGE if words else "Say whom to page and why. " + PAGE_USAGE)
    target = _mention(words[0])
    message = plain_text(words[1]).strip()
    if target is None:
        return Usage(f"`{plain_text(words[0])[:40]}` is not a person, schedule or policy name. "
                     + PAGE_USAGE)
    if not message:
        return Usage("Say what is wrong after the name. " + PAGE_USAGE)
    return PageCommand(target=target, message=message[:TITLE_LIMIT])


def _usage(verb: str) -> str:
    return "Usage: " + USAGES[verb]


def _create(rest: str, severities: tuple[str, ...]) -> Create | Usage:
    split = _split_title(rest, severities)
    if isinstance(split, Usage):
        return split
    title, outside = split
    private = any(w.lower() == PRIVATE for w in outside)
    services = tuple(dict.fromkeys(name for w in outside if _SERVICES.fullmatch(w)
                                   for name in w.partition(":")[2].split(",") if name))
    outside = [w for w in outside if w.lower() != PRIVATE and not _SERVICES.fullmatch(w)]
    named = [w for w in outside if _severity(w, severities) is not None]
    stray = [w for w in outside if _severity(w, severities) is None]
    choices = ", ".join(severities) or "none configured"
    if stray or len(named) > 1:
        what = ", ".join(f"`{plain_text(w)[:40]}`" for w in (stray or named[1:]))
        return Usage(f"Only one severity ({choices}) may stand beside the quoted title, "
                     f"not {what}. " + _usage("create"))
    title = " ".join(plain_text(title).split())
    if not title:
        return Usage("Give the incident a title. " + _usage("create"))
    if len(title) > TITLE_LIMIT:
        return Usage(f"The title is {len(title)} characters; keep it to {TITLE_LIMIT} and "
                     "put the detail in `/incident note`. " + _usage("create"))
    if not named:
        last = title.split()[-1]
        hint = (f"`{last[:40]}` is not a severity here. "
                if re.fullmatch(r"[A-Za-z]{1,10}-?\d{1,2}", last) else "")
        return Usage(f"{hint}Say how bad it is with a severity ({choices}). "
                     + _usage("create"))
    severity = _severity(named[0], severities)
    assert severity is not None
    return Create(title=title, severity=severity, private=private, services=services)


def _split_title(rest: str, severities: tuple[str, ...]) -> tuple[str, list[str]] | Usage:
    """The title and the words outside it: quoted, or bare with a severity last or first."""
    start = next((i for i, c in enumerate(rest) if c in _OPEN_QUOTES), None)
    if start is None:
        words = rest.split()
        outside: list[str] = []
        # The severity, `private` and `service:...` close a bare title, in any order.
        while len(outside) < 3 and words and _is_option(words[-1], severities):
            outside.insert(0, words.pop())
        if not outside and words and _severity(words[0], severities) is not None:
            outside.append(words.pop(0))
        return " ".join(words), outside
    end = next((i for i in range(start + 1, len(rest)) if rest[i] in _CLOSE_QUOTES), None)
    if end is None:
        return Usage("The title's quote is not closed. " + _usage("create"))
    return rest[start + 1:end], rest[:start].split() + rest[end + 1:].split()


def _is_option(word: str, severities: tuple[str, ...]) -> bool:
    return (word.lower() == PRIVATE or bool(_SERVICES.fullmatch(word))
            or _severity(word, severities) is not None)


def _severity(word: str, severities: tuple[str, ...]) -> str | None:
    wanted = word.lower().replace("-", "")
    return next((s for s in severities if s.lower().replace("-", "") == wanted), None)


def _on_incident(verb: str, incident: str | None, rest: str,
                 severities: tuple[str, ...]) -> OnIncident | Usage:
    if verb in ("note", "update", "impact"):
        text = plain_text(rest).strip()
        if not text:
            return Usage(f"Say what to {'add' if verb == 'note' else 'post'}. " + _usage(verb))
        text = text[:TEXT_LIMIT]
        if verb == "note":
            return Note(incident=incident, text=text)
        if verb == "update":
            return Update(incident=incident, text=text)
        return Impact(incident=incident, text=text)
    if verb == "role":
        return _role(incident, rest)
    if verb == "responder":
        target = _mention(rest) if rest else None
        if target is None:
            return Usage("Name one person, schedule or policy. " + _usage("responder"))
        return AddResponder(incident=incident, target=target)
    if verb == "status":
        return _status(incident, rest)
    if verb == "statuspage":
        return _status_page(incident, rest)
    if verb == "severity":
        found = _severity(rest, severities) if rest else None
        if found is None:
            return Usage(f"Choose one of {', '.join(severities)}. " + _usage("severity"))
        return SetSeverity(incident=incident, severity=found)
    note = plain_text(rest).strip()[:TEXT_LIMIT] or None
    if verb == "resolve":
        return SetStatus(incident=incident, status="resolved", note=note)
    if note:
        return Usage("`/incident mitigated` takes no text; add a note with `/incident note`.")
    return Mitigated(incident=incident)


def _role(incident: str | None, rest: str) -> AssignRole | Usage:
    words = rest.split(None, 1)
    if len(words) < 2:
        return Usage("Name the role and the person. " + _usage("role"))
    person = _mention(words[1])
    if person is None or not re.fullmatch(r"[\w-]{1,40}", words[0]):
        return Usage("Name one role and one person. " + _usage("role"))
    return AssignRole(incident=incident, role=words[0].lower(), person=person)


def _status(incident: str | None, rest: str) -> SetStatus | Usage:
    words = rest.split(None, 1)
    status = words[0].lower() if words else ""
    if status not in STATUSES:
        return Usage(f"Choose a status: {', '.join(STATUSES)}. " + _usage("status"))
    note = plain_text(words[1]).strip()[:TEXT_LIMIT] if len(words) > 1 else None
    return SetStatus(incident=incident, status=status, note=note or None)


def _status_page(incident: str | None, rest: str) -> StatusPage | Usage:
    title, rest = _public_title(rest)
    if isinstance(title, Usage):
        return title
    words = rest.split(None, 1)
    status = words[0].lower() if words else ""
    if status not in PUBLIC_STATUSES:
        return Usage(f"Choose a public status: {', '.join(PUBLIC_STATUSES)}. "
                     + _usage("statuspage"))
    after = words[1] if len(words) > 1 else ""
    if title is None:
        title, after = _public_title(after)
        if isinstance(title, Usage):
            return title
    text = plain_text(after).strip()[:TEXT_LIMIT]
    if not text:
        return Usage("Say what customers should read after the status. "
                     + _usage("statuspage"))
    return StatusPage(incident=incident, status=status, text=text, title=title)


def _public_title(rest: str) -> tuple[str | Usage | None, str]:
    """A leading `title="..."` (the public title) and what follows it."""
    stripped = rest.lstrip()
    if not stripped.lower().startswith("title=") or len(stripped) < 7 \
            or stripped[6] not in _OPEN_QUOTES:
        return None, rest
    end = next((i for i in range(7, len(stripped)) if stripped[i] in _CLOSE_QUOTES), None)
    title = " ".join(plain_text(stripped[7:end]).split()) if end is not None else ""
    if end is None or not title or len(title) > TITLE_LIMIT:
        return Usage(f"Put the public title in quotes, up to {TITLE_LIMIT} characters. "
                     + _usage("statuspage")), rest
    return title, stripped[end + 1:]


def _mention(text: str) -> Mention | None:
    """One Slack user mention, `@name`, or a bare name (user, e-mail, schedule, policy)."""
    text = text.strip()
    found = _SLACK_MENTION.fullmatch(text)
    if found:
        label = _unescape(found.group(2) or "").lstrip("@")
        return Mention(name=label or found.group(1), slack_id=found.group(1))
    named = _NAME.fullmatch(_unescape(text))
    return Mention(name=named.group(1)) if named else None


def plain_text(text: str) -> str:
    """Slack's markup as plain text: `<@U1|bob>` as `@bob`, `<url|label>` as `label (url)`."""
    return _unescape(_MARKUP.sub(_plain_markup, text))


def _plain_markup(found: re.Match[str]) -> str:
    inner = found.group(1)
    target, _bar, label = inner.partition("|")
    if target.startswith("@"):
        return "@" + (label.lstrip("@") or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        return "@" + (label.lstrip("@") or target[1:].partition("^")[0])
    if label and label != target:
        return f"{label} ({target})"
    return target


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
