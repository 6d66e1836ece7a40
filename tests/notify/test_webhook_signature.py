import hashlib
import hmac

import pytest

from tocsin.notify.webhook import sign, verify

SECRET = "whsec-unit"
BODY = '{"event":"page","title":"Платёж 🔥"}'.encode()
T = 1_772_443_800


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, T, BODY) == f"t={T},v1={expected}"


def test_a_fresh_signature_verifies() -> None:
    assert verify(SECRET, sign(SECRET, T, BODY), BODY, now_unix=T + 5)


def test_a_tampered_body_fails() -> None:
    header = sign(SECRET, T, BODY)
    assert not verify(SECRET, header, BODY.replace(b"page", b"gape"), now_unix=T)


def test_another_secret_fails() -> None:
    assert not verify("other", sign(SECRET, T, BODY), BODY, now_unix=T)


def test_a_changed_timestamp_fails() -> None:
    digest = sign(SECRET, T, BODY).split(",v1=")[1]
    assert not verify(SECRET, f"t={T + 1},v1={digest}", BODY, now_unix=T)


@pytest.mark.parametrize(("offset", "ok"), [(300, True), (-300, True), (301, False), (-301, False)])
def test_timestamps_outside_the_tolerance_fail(offset: int, ok: bool) -> None:
    assert verify(SECRET, sign(SECRET, T, BODY), BODY, now_unix=T + offset) is ok


def test_tolerance_can_be_narrowed() -> None:
    assert not verify(SECRET, sign(SECRET, T, BODY), BODY, now_unix=T + 61, tolerance=60)


@pytest.mark.parametrize(
    "header",
    ["", "garbage", f"t={T}", "v1=abc", f"t=-{T},v1=abc", f"t={T},v1=", "t=١٢,v1=abc"],
)
def test_malformed_headers_fail(header: str) -> None:
    assert not verify(SECRET, header, BODY, now_unix=T)


def test_any_of_several_v1_entries_may_match_during_secret_rotation() -> None:
    good = sign(SECRET, T, BODY).split(",v1=")[1]
    assert verify(SECRET, f"t={T},v1={'0' * 64},v1={good}", BODY, now_unix=T)
    assert verify(SECRET, f" t={T} , v1={good} ", BODY, now_unix=T)
