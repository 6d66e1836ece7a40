"""The file's `surveys:` section: the one-question survey at the end of a shift.

    surveys: {enabled: true, after_shift_minutes: 0}

Both keys are optional; surveys are on by default and go out when a shift
ends. See docs/surveys.md.
"""

from __future__ import annotations

from tocsin.config.convert import boolean, number
from tocsin.config.model import SurveySettings
from tocsin.config.schema import Fields, Key, Shape

# A survey a day late reads as noise; longer than that is a typo.
MAX_AFTER_MINUTES = 24 * 60

SURVEYS: Shape = {
    "enabled": Key(boolean),
    "after_shift_minutes": Key(number(0, maximum=MAX_AFTER_MINUTES)),
}


def build_surveys(top: Fields) -> SurveySettings:
    section: Fields | None = top.get("surveys")
    if section is None:
        return SurveySettings()
    default = SurveySettings()
    return SurveySettings(
        enabled=section.get("enabled", default.enabled),
        after_shift_minutes=float(section.get("after_shift_minutes",
                                              default.after_shift_minutes)),
    )
