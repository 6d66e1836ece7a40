"""E-mail pages and notices over SMTP, one connection per message.

`page.address` is the person's `contacts.email`. A page is a multipart
message: plain text first, then the same facts as HTML with every value
escaped. Its `Message-ID` is made from the delivery's idempotency key, so a
retry after a lost answer carries the same id and mail systems can tell the
copies apart from new pages; `References` names the alert, so clients thread
every page of one alert together. A notice (a handoff or gap notice) is one
plain-text message.

SMTP answers map to retries the way SMTP means them: 4xx and a connection
that fails or times out are worth trying again; 5xx (550 no such user, 535
bad login) and a certificate that does not verify are not. The password
never reaches a log line, a timeline detail or an error message.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Callable
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, parseaddr

from tocsin.clock import Clock
from tocsin.config.model import EmailProvider
from tocsin.logs import event
from tocsin.notify import tls as shared_tls
from tocsin.notify.base import DeliveryOutcome, Notice, Page
from tocsin.notify.bundles import RATE_LIMIT, BundlePage, summary
from tocsin.notify.email_body import page_html, page_subject, page_text, single_line
from tocsin.notify.templates import PageTemplate, body_html, body_text, subject

logger = logging.getLogger(__name__)

_ADDRESS = re.compile(r"[^@\s<>,\"]+@[^@\s<>,\"]+")
_MESSAGE_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_REPLY_LIMIT = 160  # characters of a server's reply kept in a timeline detail
# CRLF lines, encoded words for non-ASCII headers, and a 7-bit body (quoted-printable
# or base64 for UTF-8 text), so a relay without 8BITMIME passes it on unharmed.
_POLICY = SMTP_POLICY.clone(cte_type="7bit")
# On the wire: header lines unfolded up to RFC 5322's 998 characters, so a long URL header
# (List-Unsubscribe) goes as written, not as encoded words mail clients cannot follow.
_WIRE = _POLICY.clone(max_line_length=998)


class EmailNotifier:
    channel = "email"

    def __init__(
        self, provider: EmailProvider, clock: Clock, *, tls: ssl.SSLContext | None = None,
        subject_template: PageTemplate | None = None, body_template: PageTemplate | None = None,
    ) -> None:
        self._provider = provider
        self._clock = clock
        # notifications.templates.email_subject / email_body, if configured.
        self._subject_template = subject_template
        self._body_template = body_template
        # The system's CAs and host name checks; tests pass a context that trusts their own.
        self._tls = tls if tls is not None else shared_tls.system_context()
        self._envelope_from = parseaddr(provider.sender)[1]
        self._domain = self._envelope_from.rpartition("@")[2] or "tocsin.invalid"

    def send(self, page: Page) -> DeliveryOutcome:
        outcome = self._deliver(page.address, lambda: self.build_page(page))
        level = logging.INFO if outcome.ok else logging.WARNING
        event(logger, "notify.email." + ("delivered" if outcome.ok else "failed"), level,
              delivery_id=page.delivery_id, alert_id=page.alert_id, user_id=page.user_id,
              retryable=outcome.retryable, detail=outcome.detail,
              provider_id=outcome.provider_id)
        return outcome

    def send_notice(self, notice: Notice) -> DeliveryOutcome:
        outcome = self._deliver(notice.address, lambda: self.build_notice(notice))
        level = logging.INFO if outcome.ok else logging.WARNING
        event(logger, "notify.email.notice_" + ("delivered" if outcome.ok else "failed"),
              level, notice_id=notice.notice_id, kind=notice.kind, user_id=notice.user_id,
              retryable=outcome.retryable, detail=outcome.detail)
        return outcome

    def send_bundle(self, page: BundlePage) -> DeliveryOutcome:
        """One message listing every alert of a storm bundle, with the ack-all link."""
        outcome = self._deliver(page.address, lambda: self.build_bundle(page))
        level = logging.INFO if outcome.ok else logging.WARNING
        event(logger, "notify.email.bundle_" + ("delivered" if outcome.ok else "failed"),
              level, bundle_id=page.bundle_id, user_id=page.user_id, alerts=len(page.alerts),
              retryable=outcome.retryable, detail=outcome.detail)
        return outcome

    def send_message(self, address: str, build: Callable[[], EmailMessage]) -> DeliveryOutcome:
        """Send a message built by the caller (status page subscribers), started by `compose`."""
        return self._deliver(address, build)

    # Messages.

    def compose(self, address: str, key: str) -> EmailMessage:
        """A message with this channel's From, Date and a Message-ID made from `key`."""
        return self._message(address, "", key, self._clock.now())

    def build_bundle(self, page: BundlePage) -> EmailMessage:
        now = self._clock.now()
        message = self._message(page.address, page.user_name, page.idempotency_key, now)
        held = page.reason == RATE_LIMIT
        message["Subject"] = ("[Tocsin] " if held else "[Tocsin] storm: ") + single_line(
            summary(page), 150)
        lines = [f"{summary(page)}", ""]
        for alert in page.alerts:
            severity = f"[{alert.severity}] " if alert.severity else ""
            service = f" ({alert.service})" if alert.service else ""
            lines.append(f"#{alert.alert_id} {severity}{single_line(alert.title, 200)}{service}")
        if page.ack_url:
            lines += ["", f"Acknowledge all {len(page.alerts)}: {page.ack_url}"]
        why = ("pages held by your rate limit, sent together once it allowed another."
               if held else "pages bundled while the route is in a storm.")
        lines += ["", "-- ", f"Sent by Tocsin: {why}"]
        message.set_content("\n".join(lines) + "\n")
        return message


    def build_page(self, page: Page) -> EmailMessage:
        now = self._clock.now()
        message = self._message(page.address, page.user_name, page.idempotency_key, now)
        message["Subject"] = subject(self._subject_template, page) or page_subject(page)
        message["References"] = f"<tocsin-alert-{page.alert_id}@{self._domain}>"
        message["X-Tocsin-Alert-Id"] = str(page.alert_id)
        text = body_text(self._body_template, page)
        if text is None:
            message.set_content(page_text(page, now))
            message.add_alternative(page_html(page, now), subtype="html")
        else:
            message.set_content(text)
            message.add_alternative(body_html(text), subtype="html")
        return message

    def build_notice(self, notice: Notice) -> EmailMessage:
        now = self._clock.now()
        message = self._message(notice.address, notice.user_name, notice.idempotency_key, now)
        message["Subject"] = "[Tocsin] " + single_line(notice.text, 150)
        text = f"{single_line(notice.text, 2000)}\n\n-- \nSent by Tocsin ({notice.kind}).\n"
        message.set_content(text)
        return message

    def _message(self, address: str, name: str, key: str, now: datetime) -> EmailMessage:
        message = EmailMessage(policy=_POLICY)
        message["From"] = self._provider.sender
        message["To"] = Address(display_name=single_line(name, 100), addr_spec=address)
        message["Date"] = format_datetime(now)
        message["Message-ID"] = f"<{_MESSAGE_ID_UNSAFE.sub('-', key)}@{self._domain}>"
        # RFC 3834: out-of-office robots must not answer a page.
        message["Auto-Submitted"] = "auto-generated"
        return message

    # Sending.

    def _deliver(self, address: str, build: Callable[[], EmailMessage]) -> DeliveryOutcome:
        if not _ADDRESS.fullmatch(address):
            return DeliveryOutcome(ok=False, detail="the contact is not an e-mail address")
        try:
            message = build()
        except (ValueError, IndexError) as exc:
            # email.headerregistry refuses an address it cannot write as a header.
            detail = f"cannot address the message ({type(exc).__name__})"
            return DeliveryOutcome(ok=False, detail=detail)
        message_id = str(message["Message-ID"])
        stage = _Stage()
        try:
            self._transmit(message, address, stage)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (550, b""))
            return self._refused(code, reply, stage.name)
        except smtplib.SMTPResponseException as exc:
            return self._refused(exc.smtp_code, exc.smtp_error, stage.name)
        except smtplib.SMTPNotSupportedError:
            return DeliveryOutcome(ok=False, detail=_NOT_SUPPORTED.get(stage.name, stage.name))
        except ssl.SSLCertVerificationError as exc:
            detail = (f"the certificate of {self._where()} did not verify "
                      f"({exc.verify_message or 'unknown reason'})")
            return DeliveryOutcome(ok=False, detail=detail)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            # Refused or dropped connections, timeouts, DNS failures, TLS hiccups.
            return DeliveryOutcome(ok=False, retryable=True, detail=self._unreachable(exc))
        except smtplib.SMTPException as exc:
            # smtplib's own refusals ("no suitable authentication method"): settings, not luck.
            detail = f"{self._where()} could not be used at {stage.name} ({type(exc).__name__})"
            return DeliveryOutcome(ok=False, detail=detail)
        return DeliveryOutcome(ok=True, detail=f"accepted by {self._where()}",
                               provider_id=message_id)

    def _transmit(self, message: EmailMessage, address: str, stage: _Stage) -> None:
        provider = self._provider
        stage.name = "connect"
        client: smtplib.SMTP
        if provider.security == "tls":
            client = smtplib.SMTP_SSL(provider.host, provider.port,
                                      timeout=provider.timeout_seconds, context=self._tls)
        else:
            client = smtplib.SMTP(provider.host, provider.port, timeout=provider.timeout_seconds)
        try:
            if provider.security == "starttls":
                stage.name = "starttls"
                client.starttls(context=self._tls)
            if provider.username is not None and provider.password is not None:
                stage.name = "login"
                client.login(provider.username, provider.password)
            stage.name = "send"
            # Not send_message: its generator turns body lines starting "From " into ">From ".
            international = not (self._envelope_from + address).isascii()
            options: list[str] = []
            if international:
                client.ehlo_or_helo_if_needed()
                if not client.has_extn("smtputf8"):
                    raise smtplib.SMTPNotSupportedError("the server does not offer SMTPUTF8")
                options = ["SMTPUTF8", "BODY=8BITMIME"]
            wire = _WIRE.clone(utf8=True) if international else _WIRE
            client.sendmail(self._envelope_from, [address], message.as_bytes(policy=wire),
                            mail_options=options)
        finally:
            _close(client)

    def _refused(self, code: int, reply: bytes | str, stage: str) -> DeliveryOutcome:
        retryable = 400 <= code < 500
        if stage == "login":
            # A login reply may quote what was sent; keep only the code.
            return DeliveryOutcome(ok=False, retryable=retryable,
                                   detail=f"{self._where()} refused the login ({code})")
        said = self._reply_text(reply)
        detail = f"{self._where()} answered {code}" + (f": {said}" if said else "")
        return DeliveryOutcome(ok=False, retryable=retryable, detail=detail)

    def _reply_text(self, reply: bytes | str) -> str:
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        text = single_line(text, _REPLY_LIMIT)
        password = self._provider.password
        return text.replace(password, "***") if password else text

    def _unreachable(self, exc: BaseException) -> str:
        # smtplib reports a read that timed out as a disconnection caused by it.
        if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
            return f"{self._where()} timed out"
        if isinstance(exc, ConnectionRefusedError):
            return f"{self._where()} refused the connection"
        return f"{self._where()} unreachable ({type(exc).__name__})"

    def _where(self) -> str:
        return f"SMTP server {self._provider.host}:{self._provider.port}"


class _Stage:
    """How far a conversation got, to say which step a failure belongs to."""

    name = "connect"


_NOT_SUPPORTED = {
    "starttls": "the SMTP server does not offer STARTTLS; set security: tls (port 465), "
                "or none for a relay on a trusted network",
    "login": "the SMTP server does not offer a login (AUTH); remove username and password",
}


def _close(client: smtplib.SMTP) -> None:
    # Once the message is accepted, a failed QUIT must not make it look lost.
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()
