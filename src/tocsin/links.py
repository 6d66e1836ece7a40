"""Signed, expiring links that let the person paged act on an alert, or on a bundle.

The signing key is kept in the database (see `keys`), so every process
checks links alike and nobody has to configure it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from tocsin.clock import Clock

LINK_MAX_AGE_SECONDS = 24 * 3600
_SALT = "tocsin.alert-link"
# Its own salt: an alert's link can never be read as a bundle's, nor the reverse.
_BUNDLE_SALT = "tocsin.bundle-link"
_SURVEY_SALT = "tocsin.survey-link"


@dataclass(frozen=True)
class LinkClaim:
    alert_id: int
    user_id: str


@dataclass(frozen=True)
class BundleClaim:
    bundle_id: int
    user_id: str


@dataclass(frozen=True)
class SurveyClaim:
    survey_id: int
    user_id: str
    score: int


class LinkError(ValueError):
    pass


class LinkSigner:
    def __init__(self, secret: str, public_url: str, clock: Clock) -> None:
        # Expiry follows the injected clock, like every other timer.
        def stamp(_signer: TimestampSigner) -> int:
            return int(clock.now().timestamp())

        signer = type("ClockSigner", (TimestampSigner,), {"get_timestamp": stamp})
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT, signer=signer)
        self._bundles = URLSafeTimedSerializer(secret, salt=_BUNDLE_SALT, signer=signer)
        self._surveys = URLSafeTimedSerializer(secret, salt=_SURVEY_SALT, signer=signer)
        self.public_url = public_url  # swapped on config reload

    def token(self, alert_id: int, user_id: str) -> str:
        return str(self._serializer.dumps({"a": alert_id, "u": user_id}))

    def url(self, alert_id: int, user_id: str) -> str:
        return f"{self.public_url.rstrip('/')}/a/{self.token(alert_id, user_id)}"

    def check(self, token: str) -> LinkClaim:
        data = _load(self._serializer, token, "the alert")
        return LinkClaim(alert_id=int(data["a"]), user_id=str(data["u"]))

    def bundle_url(self, bundle_id: int, user_id: str) -> str:
        """The link in a storm bundle: it acknowledges every alert the bundle lists."""
        token = str(self._bundles.dumps({"b": bundle_id, "u": user_id}))
        return f"{self.public_url.rstrip('/')}/b/{token}"

    def check_bundle(self, token: str) -> BundleClaim:
        data = _load(self._bundles, token, "the alerts")
        return BundleClaim(bundle_id=int(data["b"]), user_id=str(data["u"]))

    def survey_url(self, survey_id: int, user_id: str, score: int) -> str:
        """A shift survey's answer link: one per score, for the person it was sent to."""
        token = str(self._surveys.dumps({"s": survey_id, "u": user_id, "n": score}))
        return f"{self.public_url.rstrip('/')}/survey/{token}"

    def check_survey(self, token: str) -> SurveyClaim:
        data = _load(self._surveys, token, "the survey")
        return SurveyClaim(survey_id=int(data["s"]), user_id=str(data["u"]), score=int(data["n"]))


def _load(serializer: URLSafeTimedSerializer, token: str, what: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = serializer.loads(token, max_age=LINK_MAX_AGE_SECONDS)
    except SignatureExpired as exc:
        raise LinkError(f"this link has expired; open {what} in Tocsin instead") from exc
    except BadSignature as exc:
        raise LinkError("this link is not valid") from exc
    return data
