"""Log lines carry their event's data, whichever way a module passed it, secrets masked."""

from __future__ import annotations

import logging

from tocsin.logs import EventFormatter, RedactingFilter, event


def formatted(logger_call) -> str:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("tocsin.test.format")
    handler = Keep()
    redactor = RedactingFilter()
    redactor.set_secrets(["very-secret-key"])
    handler.addFilter(redactor)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger_call(logger)
    finally:
        logger.removeHandler(handler)
    return EventFormatter("%(message)s").format(records[0])


def test_event_fields_are_printed():
    line = formatted(lambda log: event(log, "alert.acknowledged", alert_id=12, actor="alice"))

    assert line == "alert.acknowledged alert_id=12 actor=alice"


def test_extra_fields_are_printed_and_masked():
    line = formatted(lambda log: log.info(
        "notify.webhook.failed", extra={"delivery_id": 7, "detail": "key very-secret-key"}))

    assert line == 'notify.webhook.failed delivery_id=7 detail="key ***"'


def test_a_value_with_any_space_or_a_quote_is_quoted_so_the_line_splits_right():
    line = formatted(lambda log: event(
        log, "alert.triggered", title="disk\u2003full", note='said "hi"', empty="",
        separated="a\x1fb", plain="payment-api"))

    assert line == ('alert.triggered title="disk\u2003full" note="said \\"hi\\"" empty="" '
                    'separated="a\x1fb" plain=payment-api')
