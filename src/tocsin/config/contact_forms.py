"""The form of Slack ids and a Twilio Account SID, checked when the file loads.

A Slack contact is a member id (U..., W... on Enterprise Grid) or a channel
id (C..., G... for an older private channel): uppercase letters and digits.
A name or an @handle never reaches anyone, and Slack says so only at the
first page. A Twilio Account SID is AC and 32 hexadecimal digits; another
Twilio-compatible provider (a different `api_url`) may use its own form.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tocsin.config.schema import Fields, Problems, Spot

_SLACK_ID = re.compile(r"[UWCG][A-Z0-9]{2,30}")
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,30}")
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")


def check_slack_id(problems: Problems, address: str, spot: Spot) -> None:
    if _SLACK_ID.fullmatch(address.strip()):
        return
    problems.error(
        spot, f"'{address}' is not a Slack member or channel id",
        "copy the member ID from the person's Slack profile (More, then Copy member ID: "
        "U and uppercase letters and digits, such as U012AB3CD) or a channel's ID "
        "(C... or G...), not a name or @handle")


def check_slack_channel(problems: Problems, channel: str, spot: Spot) -> bool:
    """Whether `channel` is a Slack channel id; an error naming the fix when it is not."""
    if _CHANNEL_ID.fullmatch(channel.strip()):
        return True
    said = ("is a channel name" if channel.strip().startswith("#")
            else "is not a Slack channel id")
    problems.error(
        spot, f"'{channel}' {said}; Slack channels are named here by id",
        "use the channel's ID (C or G and uppercase letters and digits, such as C012AB3CD): "
        "in Slack open the channel's details; the ID is at the bottom of the About tab")
    return False


def check_account_sid(problems: Problems, twilio: Fields | None) -> None:
    """An error for an Account SID Twilio itself would refuse (api_url left at Twilio's)."""
    if twilio is None:
        return
    sid, api_url = twilio.get("account_sid"), twilio.get("api_url")
    host = (urlsplit(api_url).hostname or "") if isinstance(api_url, str) else "api.twilio.com"
    if not isinstance(sid, str) or not (host == "twilio.com" or host.endswith(".twilio.com")):
        return
    if not _ACCOUNT_SID.fullmatch(sid):
        # Not echoed: an auth token pasted into the wrong key would be printed.
        problems.error(
            twilio.at("account_sid"),
            f"account_sid ({len(sid)} characters) is not a Twilio Account SID: AC and 32 "
            "hexadecimal digits",
            "copy the Account SID from the Twilio console's dashboard, or set api_url when "
            "the provider is not Twilio")
