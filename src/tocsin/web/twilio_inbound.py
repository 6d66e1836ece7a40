"""Twilio's webhooks: the keypad answer to a call, text replies, delivery reports.

    POST /twilio/voice/{link token}   Digits 1 acknowledge, 2 resolve, 3 escalate now,
                                      4 snooze 30 minutes, 5 unacknowledge, 6 reassign,
                                      7 add a responder, as the person called
    POST /twilio/sms                  "ACK 42", "RES 42", "SNOOZE 42 30", "ESC 42",
                                      "UNACK 42", "REASSIGN 42 bob", "ADD 42 primary"
                                      from a user's own number (alerts.reply_rules)
    POST /twilio/status[/{delivery}]  MessageStatus / CallStatus reports

Every request must carry a valid `X-Twilio-Signature` for the URL under
`public_url` (notify.twilio_signature), else 403; without
`notifications.twilio` configured the routes answer 404. Replies are TwiML.
Every answer goes through alerts.answers, with the surface "phone" or "sms",
so the audit row and the timeline entry are written where the API writes them.
A text (by its MessageSid) or a key press (by CallSid, the call's turn, the
list and digits) acts once: Twilio's retry of it, or anyone's replay,
changes nothing (alerts.replay_store).

Keys 6 and 7 answer with a second `<Gather>` reading up to nine targets, one
key each (0 cancels): reassign offers the people and schedules of the
alert's own policy in step order, then the config's others, never the
caller; add responder offers the config's schedules, then its policies
other than the alert's own. The list travels in that Gather's action URL
(`?menu=reassign&to=s:primary&to=u:bob`), which Twilio signs, so the key
acts on the target that was read out; it is looked up in the config again
when the key comes. After the caller's own acknowledgement or snooze the
call offers 5 to undo it, and after an undo 1 or 7; every key of the menu
works at those asks, each a new turn (`?turn=2`) so it is no repeat.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from tocsin.alerts import answers, escalate, service
from tocsin.alerts import replay_store as replays
from tocsin.alerts.reply_rules import (
    ACK,
    ADD,
    DEFAULT_SNOOZE_MINUTES,
    ESCALATE,
    REASSIGN,
    RESOLVE,
    SNOOZE,
    UNACK,
    Reply,
    parse_reply,
)
from tocsin.alerts.store import ACKNOWLEDGED, RESOLVED, TRIGGERED, Alert
from tocsin.config import answer_targets
from tocsin.config.answer_targets import Choice
from tocsin.config.model import Config, Target, TwilioProvider
from tocsin.db import transaction
from tocsin.engine.delivery_status import find_delivery, provider_failed
from tocsin.engine.runtime import Runtime
from tocsin.errors import Conflict, InvalidInput, NotFound
from tocsin.escalation.rules import MAX_WAIT_MINUTES
from tocsin.links import LinkClaim, LinkError
from tocsin.logs import event
from tocsin.notify.sms_text import fits_one_segment
from tocsin.notify.twilio import KEYPAD_PROMPT, KEYPAD_SNOOZE_MINUTES, VOICE_ACK_PATH
from tocsin.notify.twilio_signature import is_valid

logger = logging.getLogger(__name__)

_SMS_FAILED = frozenset({"undelivered", "failed"})
_CALL_FAILED = frozenset({"no-answer", "busy", "failed"})
_TWIML = "application/xml"
# One segment: every verb, with REASSIGN and ADD naming a person or schedule by example.
SMS_HELP = ("Tocsin: reply ACK 42, RES 42, SNOOZE 42 30 (minutes), ESC 42 (escalate), "
            "UNACK 42, REASSIGN 42 bob, ADD 42 primary. No number: the one open alert "
            "texted to you.")
# The keys a call offers (notify.twilio.KEYPAD_PROMPT says them).
KEYPAD = {"1": ACK, "2": RESOLVE, "3": ESCALATE, "4": SNOOZE, "5": UNACK, "6": REASSIGN,
          "7": ADD}
_KEY_OF = {verb: key for key, verb in KEYPAD.items()}
# Keys of a reassign or add responder list, one target each; 0 cancels.
_MENU_KEYS = "123456789"
_MENU_VERBS = {REASSIGN: "reassign", ADD: "add a responder to"}
_SPOKEN_LABEL_LIMIT = 60
_SMS_WORDS = {ACK: "ACK", RESOLVE: "RES", SNOOZE: "SNOOZE", ESCALATE: "ESC", UNACK: "UNACK",
              REASSIGN: "REASSIGN", ADD: "ADD"}
# What REASSIGN and ADD may name, and how a reply says so.
_TARGET_KINDS = {REASSIGN: answer_targets.REASSIGN_KINDS, ADD: answer_targets.RESPONDER_KINDS}
_TARGET_FORMS = {REASSIGN: "<user|schedule>", ADD: "<user|schedule|policy>"}


class _Refused(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    async def checked(request: Request) -> tuple[Config, TwilioProvider, dict[str, str]]:
        config = runtime.config_now()
        provider = config.notifications.twilio
        if provider is None:
            raise _Refused(404)
        form = await request.form()
        params = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        url = config.public_url.rstrip("/") + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        if not is_valid(url, params, provider.auth_token,
                        request.headers.get("X-Twilio-Signature")):
            event(logger, "twilio.signature_refused", logging.WARNING, path=request.url.path,
                  signed="X-Twilio-Signature" in request.headers)
            raise _Refused(403)
        return config, provider, dict(params)

    @router.post(VOICE_ACK_PATH + "{token}")
    async def keypad(token: str, request: Request) -> Response:
        try:
            config, _provider, form = await checked(request)
        except _Refused as refused:
            return Response(status_code=refused.status)
        ask = _Ask.read(request.query_params)
        digits = form.get("Digits", "")
        # Without a CallSid there is nothing to know a repeat by: it is answered again.
        replay_key = ask.replay_key(form.get("CallSid"), digits)
        return _twiml(_keypad_answer(runtime, config, token, digits, ask, replay_key))

    @router.post("/twilio/sms")
    async def sms(request: Request) -> Response:
        try:
            config, _provider, form = await checked(request)
        except _Refused as refused:
            return Response(status_code=refused.status)
        message = form.get("MessageSid") or form.get("SmsSid") or None
        text = _sms_answer(runtime, config, form.get("From", ""), form.get("Body", ""), message)
        return _twiml(f"<Message>{_xml(text)}</Message>")

    @router.post("/twilio/status")
    @router.post("/twilio/status/{delivery_id}")
    async def status(request: Request, delivery_id: int | None = None) -> Response:
        try:
            config, _provider, form = await checked(request)
        except _Refused as refused:
            return Response(status_code=refused.status)
        _delivery_report(runtime, config, delivery_id, form)
        return Response(status_code=204)

    return router


@dataclass(frozen=True)
class _Ask:
    """What the `<Gather>` a key answers had asked, carried in its action URL's query.

    Twilio signs the whole URL, query and all, so `checked` refuses a query
    anyone else changed and a list read back is the list that was spoken.
    `turn` counts the asks of one call that can act: pressing 1, then 5, then
    1 again are three answers, not a repeat of the first.
    """

    turn: int = 1
    again: bool = False  # the main menu, asked once more after a key that does nothing
    menu: str | None = None  # REASSIGN or ADD: a numbered list of targets
    choices: tuple[str, ...] = ()  # the list's target codes (answer_targets), key 1 first

    @classmethod
    def read(cls, query: QueryParams) -> _Ask:
        turn = query.get("turn", "1")
        menu = query.get("menu")
        return cls(turn=int(turn) if turn.isascii() and turn.isdigit() and len(turn) < 5 else 1,
                   again=query.get("again") == "1",
                   menu=menu if menu in _TARGET_KINDS else None,
                   choices=tuple(query.getlist("to"))[:len(_MENU_KEYS)])

    def action(self, config: Config, token: str) -> str:
        """The URL a `<Gather>` asking this posts its key to."""
        pairs = [("again", "1")] if self.again else []
        if self.turn > 1:
            pairs.append(("turn", str(self.turn)))
        if self.menu is not None:
            pairs += [("menu", self.menu), *(("to", code) for code in self.choices)]
        query = "?" + urlencode(pairs, safe=":") if pairs else ""
        return config.public_url.rstrip("/") + VOICE_ACK_PATH + token + query

    def replay_key(self, call: str | None, digits: str) -> str | None:
        """`CA1:1` for the call's first ask, `CA1:t2:reassign:3` for a list on its second."""
        if not call:
            return None
        turn = [f"t{self.turn}"] if self.turn > 1 else []
        menu = [self.menu] if self.menu else []
        return ":".join([call, *turn, *menu, digits])


def _keypad_answer(runtime: Runtime, config: Config, token: str, digits: str, ask: _Ask,
                   replay_key: str | None) -> str:
    try:
        claim = runtime.links.check(token)
    except LinkError:
        return "<Say>This page can no longer be answered by phone. Goodbye.</Say>"
    if ask.menu is not None:
        return _pick(runtime, config, claim, ask.menu, digits, ask, replay_key)
    if not digits:
        return "<Say>No key was pressed. Goodbye.</Say>"
    verb = KEYPAD.get(digits)
    if verb is None and ask.again:
        return "<Say>That key does nothing here. Answer the page by text or link. Goodbye.</Say>"
    if verb is None:
        # Once more; the query marks the second ask, and Twilio signs it with the URL.
        return _gather(replace(ask, again=True).action(config, token),
                       f"That key does nothing. {KEYPAD_PROMPT}", "No key was pressed. Goodbye.")
    if verb in _TARGET_KINDS:
        return _menu(runtime, config, token, claim, verb, ask)

    said, changed = _act(runtime, config, verb, claim.alert_id, claim.user_id, replays.KEYPAD,
                         KEYPAD_SNOOZE_MINUTES, replay_key=replay_key)
    offer = _undo_offer(runtime, verb, claim, changed=changed)
    if offer is None:
        return f"<Say>{_xml(said)} Goodbye.</Say>"
    return _gather(_Ask(turn=ask.turn + 1).action(config, token), f"{said} {offer}", "Goodbye.")


def _undo_offer(runtime: Runtime, verb: str, claim: LinkClaim, *,
                changed: bool) -> str | None:
    """The key that undoes what the caller just did, while the call lasts; None: no offer.

    Read from the alert as it is now, so a repeat of the press is offered the same;
    "again" only when this press un-acknowledged something (`changed`).
    """
    if verb not in (ACK, SNOOZE, UNACK):
        return None
    with runtime.sessions() as session:
        try:
            alert = service.get_alert(session, claim.alert_id)
        except NotFound:
            return None
        if verb == UNACK and alert.status == TRIGGERED:
            again = " again" if changed else ""
            return (f"Press {_KEY_OF[ACK]} to acknowledge{again}, {_KEY_OF[ADD]} to add a "
                    "responder, or hang up.")
        if alert.status == ACKNOWLEDGED and alert.acknowledged_by == claim.user_id:
            return f"Press {_KEY_OF[UNACK]} to undo, or hang up."
    return None


def _menu(runtime: Runtime, config: Config, token: str, claim: LinkClaim, verb: str,
          ask: _Ask) -> str:
    """A second `<Gather>`: up to nine people, schedules or policies, one key each."""
    alert_id = claim.alert_id
    with runtime.sessions() as session:
        try:
            alert = service.get_alert(session, alert_id)
        except NotFound:
            return f"<Say>Alert {alert_id} does not exist. Goodbye.</Say>"
        if alert.status == RESOLVED:
            when = f" at {alert.resolved_at:%Y-%m-%dT%H:%M:%SZ}" if alert.resolved_at else ""
            return (f"<Say>Alert {alert_id} is already resolved by "
                    f"{_xml(alert.resolved_by or 'someone')}{when}; nothing was changed. "
                    "Goodbye.</Say>")
        if verb == ADD and alert.status == ACKNOWLEDGED:
            # A responder added now would not be paged (alerts.actions.add_responder).
            said = (f"Alert {alert_id} is acknowledged, so an added responder would not be "
                    f"paged. Press {_KEY_OF[UNACK]} to unacknowledge it, or hang up.")
            return _gather(ask.action(config, token), said, "Nothing was changed. Goodbye.")
        offered = (_reassign_choices(config, alert, claim.user_id) if verb == REASSIGN
                   else _responder_choices(config, alert))

    if not offered:
        return "<Say>There is no one else to offer. Nothing was changed. Goodbye.</Say>"
    keys = ", ".join(f"{key} for {_spoken(choice)}"
                     for key, choice in zip(_MENU_KEYS, offered, strict=False))
    said = f"To {_MENU_VERBS[verb]} alert {alert_id}, press {keys}, or 0 to cancel."
    listed = _Ask(turn=ask.turn, menu=verb, choices=tuple(choice.code for choice in offered))
    return _gather(listed.action(config, token), said, "Nothing was changed. Goodbye.")


def _reassign_choices(config: Config, alert: Alert, caller: str) -> list[Choice]:
    """The people and schedules of the alert's own policy in step order, then the config's
    others (people by name, then schedules); never the caller; at most nine."""
    known = {c.target: c for c in answer_targets.choices(config, answer_targets.REASSIGN_KINDS)}
    policy = escalate.alert_policy(config, alert)
    steps = policy.steps if policy is not None else ()
    own = [known[target] for step in steps for target in step.targets if target in known]
    return _first_nine([*own, *known.values()], leave_out=Target("user", caller))


def _responder_choices(config: Config, alert: Alert) -> list[Choice]:
    """The config's schedules, then its policies other than the alert's own; at most nine.

    People are added by text, Slack or the link page: listed first, they would
    leave no key for the schedules and policies, which page whoever is on call.
    """
    policy = escalate.alert_policy(config, alert)
    own = Target("escalation_policy", policy.name if policy is not None else alert.policy or "")
    found = answer_targets.choices(config, ("schedule", "escalation_policy"))
    return _first_nine(found, leave_out=own)


def _first_nine(found: list[Choice], *, leave_out: Target) -> list[Choice]:
    kept: list[Choice] = []
    for choice in found:
        if choice.target != leave_out and choice not in kept:
            kept.append(choice)
    return kept[:len(_MENU_KEYS)]


def _spoken(choice: Choice) -> str:
    """"Bob", "schedule primary", "escalation policy database"."""
    label = " ".join(choice.label.split())[:_SPOKEN_LABEL_LIMIT]
    kind = choice.target.kind
    return label if kind == "user" else f"{answer_targets.noun(kind)} {label}"


def _pick(runtime: Runtime, config: Config, claim: LinkClaim, verb: str, digits: str,
          ask: _Ask, replay_key: str | None) -> str:
    """The key pressed on a reassign (`verb` REASSIGN) or add responder (ADD) list."""
    if not digits or digits == "0":
        return "<Say>Nothing was changed. Goodbye.</Say>"
    index = _MENU_KEYS.find(digits) if len(digits) == 1 else -1
    if not 0 <= index < len(ask.choices):
        return "<Say>That key names no one. Nothing was changed. Goodbye.</Say>"
    code = ask.choices[index]
    target = answer_targets.from_code(config, code, _TARGET_KINDS[verb])
    if target is None:
        # The config was reloaded between the list and the key.
        event(logger, "twilio.keypad_target_gone", verb=verb, alert_id=claim.alert_id)
        name = " ".join(code.partition(":")[2].split())[:_SPOKEN_LABEL_LIMIT]
        return (f"<Say>{_xml(name)} is no longer in Tocsin's configuration. Nothing was "
                "changed. Goodbye.</Say>")

    said, _changed = _act(runtime, config, verb, claim.alert_id, claim.user_id, replays.KEYPAD,
                          replay_key=replay_key, target=target)
    return f"<Say>{_xml(said)} Goodbye.</Say>"


def _gather(action: str, said: str, unanswered: str) -> str:
    """Say `said` and wait for one key, posted to `action`; say `unanswered` if none comes."""
    return (f'<Gather numDigits="1" action="{_xml(action)}" method="POST" timeout="10">'
            f"<Say>{_xml(said)}</Say></Gather><Say>{_xml(unanswered)}</Say>")


def _sms_answer(runtime: Runtime, config: Config, sender: str, body: str,
                message: str | None) -> str:
    sender_user = config.user_by_contact("sms", sender)
    if sender_user is None:
        event(logger, "twilio.sms_unknown_sender", logging.WARNING)
        return "Tocsin: this number is not on any Tocsin user's contacts; nothing was changed."
    user_id = sender_user.id
    reply = parse_reply(body)
    if reply is None:
        event(logger, "twilio.sms_unread", user_id=user_id)
        return SMS_HELP
    alert_id = reply.alert_id
    if alert_id is None:
        with runtime.sessions() as session:
            texted = answers.open_texted(session, user_id=user_id)
        if len(texted) != 1:
            return _ask_which(reply, texted)
        alert_id = texted[0]
    target: Target | None = None
    if reply.verb in _TARGET_KINDS:
        target = answer_targets.named(config, reply.target or "", _TARGET_KINDS[reply.verb])
        if target is None:
            return _unknown_target(config, reply, alert_id)
    said, _changed = _act(runtime, config, reply.verb, alert_id, user_id, replays.SMS,
                          reply.minutes, replay_key=message, target=target)
    return one_segment("Tocsin: " + said)


def _ask_which(reply: Reply, texted: list[int]) -> str:
    word = _SMS_WORDS[reply.verb]
    then = f" {reply.target}" if reply.target else ""
    if not texted:
        return (f"Tocsin: no open alert was texted to you; reply with the alert's number, "
                f"e.g. {word} 42{then}. Nothing was changed.")
    return (f"Tocsin: {len(texted)} open alerts were texted to you; reply with the number, "
            f"e.g. {word} {texted[0]}{then}. Nothing was changed.")


def _unknown_target(config: Config, reply: Reply, alert_id: int) -> str:
    """Nothing changed: the reply named no target, or one the config does not define."""
    kinds = _TARGET_KINDS[reply.verb]
    what = answer_targets.nouns(kinds)
    named = (f"no {what} is named {reply.target[:30]!r}" if reply.target
             else f"name the {what}")
    event(logger, "twilio.sms_unknown_target", verb=reply.verb, alert_id=alert_id)
    return one_segment(
        f"Tocsin: nothing changed; {named}. Reply {_SMS_WORDS[reply.verb]} {alert_id} "
        f"{_TARGET_FORMS[reply.verb]}, e.g. {answer_targets.valid_names(config, kinds)}")


def _act(runtime: Runtime, config: Config, verb: str, alert_id: int, user_id: str,
         surface: str, minutes: float = DEFAULT_SNOOZE_MINUTES, *,
         replay_key: str | None = None, target: Target | None = None) -> tuple[str, bool]:
    """Answer the page as `user_id`; the sentence to say or text back, and whether this
    request changed the alert.

    A request already answered under `replay_key` acts no more: the claim is
    made in the transaction that acts, so of two copies at once only one acts.
    """
    now = runtime.clock.now()
    try:
        with transaction(runtime.sessions) as session:
            if replay_key is not None and not replays.claim(
                    session, source=surface, key=replay_key, now=now, alert_id=alert_id):
                return _repeat(session, surface, replay_key, alert_id), False
            done = answers.answer(session, config=config, verb=verb, alert_id=alert_id,
                                  actor=user_id, surface=surface, now=now, minutes=minutes,
                                  target=target)
            said, changed = done.said, done.changed
            if replay_key is not None:
                replays.remember_reply(session, source=surface, key=replay_key, reply=said)
    except Conflict as exc:
        return f"{str(exc)[:1].upper()}{str(exc)[1:]}; nothing was changed.", False
    except InvalidInput:
        return (f"Snooze for 1 to {MAX_WAIT_MINUTES:.0f} minutes, e.g. SNOOZE {alert_id} 30; "
                "nothing was changed."), False
    except NotFound:
        return f"Alert {alert_id} does not exist.", False
    if changed:
        runtime.engine.wake()
    return said, changed


def _repeat(session: Session, surface: str, replay_key: str, alert_id: int) -> str:
    """The answer to a copy of a request already answered: nothing more is done."""
    if surface == replays.SMS:
        return f"This message was already handled for alert {alert_id}; nothing more was changed."
    first = replays.first_reply(session, source=surface, key=replay_key)
    return first or f"That key was already handled for alert {alert_id}."


def one_segment(text: str) -> str:
    """`text`, cut to fit one SMS segment."""
    while not fits_one_segment(text):
        text = text[:-4].rstrip() + "..."
    return text


def _delivery_report(runtime: Runtime, config: Config, delivery_id: int | None,
                     form: dict[str, str]) -> None:
    reported = form.get("MessageStatus") or form.get("CallStatus") or ""
    answered_by = form.get("AnsweredBy", "")
    failed = reported in _SMS_FAILED or reported in _CALL_FAILED
    if answered_by.startswith("machine"):
        failed, reported = True, "answered by voicemail"
    if not failed:
        return
    sid = form.get("MessageSid") or form.get("CallSid")
    detail = f"Twilio reported the page {reported}"
    if form.get("ErrorCode"):
        detail += f" (error {form['ErrorCode'][:10]})"
    with transaction(runtime.sessions) as session:
        row = find_delivery(session, delivery_id=delivery_id, provider_id=sid)
        if row is None:
            event(logger, "twilio.status_unknown_delivery", logging.WARNING,
                  delivery_id=delivery_id, provider_id=sid)
            return
        changed = provider_failed(session, config=config, delivery=row, detail=detail,
                                  now=runtime.clock.now())
    if changed:
        runtime.engine.wake()


def _twiml(inner: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>'
    return Response(body, media_type=_TWIML)


def _xml(text: str) -> str:
    return html.escape(text, quote=True)
