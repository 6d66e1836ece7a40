"""Twilio's request signature, checked on every inbound webhook.

Twilio signs a webhook with `X-Twilio-Signature`: the Base64 HMAC-SHA1,
keyed by the account's auth token, of the full URL it posted to followed by
each POST parameter's name and value, sorted by name. The URL is the one
configured at Twilio, so Tocsin rebuilds it from `public_url`: behind a
proxy the Host header and scheme the app sees are not the ones Twilio used.

Pure functions, no I/O; written from Twilio's published description so the
runtime does not need the `twilio` package (tests check it against that
package's validator).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable


def signature(url: str, params: Iterable[tuple[str, str]], auth_token: str) -> str:
    """The signature Twilio sends for a POST of `params` to `url`."""
    payload = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode("utf-8"), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def is_valid(url: str, params: Iterable[tuple[str, str]], auth_token: str,
             given: str | None) -> bool:
    """True when `given` is Twilio's signature of this request; compared in constant time."""
    if not given or not auth_token:
        return False
    expected = signature(url, params, auth_token)
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii", "replace"))
