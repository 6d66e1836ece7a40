"""Properties of rotations in many zones, checked against plain wall-clock readings.

The oracle here never converts a local time to UTC itself: it only reads the
wall clock at the instants the rules return (`astimezone`), and checks that
each handoff is the first instant whose wall clock reads the handoff time or
later. That is the rule DESIGN.md decides, for gaps and repeats alike.
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.config.model import WEEKDAYS, Layer, Schedule
from tocsin.oncall.rules import format_utc, local_to_utc, oncall_at, parse_time, shifts

ZONES = (
    "America/New_York",
    "America/St_Johns",  # -03:30, DST
    "America/Santiago",  # southern; changes at midnight
    "America/Havana",  # changes at 00:00 / 01:00
    "America/Sao_Paulo",  # southern; DST until 2019
    "Europe/London",
    "Europe/Berlin",
    "Europe/Dublin",  # "negative" DST in tzdata
    "Africa/Casablanca",  # +01, an hour back each Ramadan
    "Asia/Tehran",  # +03:30, DST until 2022
    "Asia/Kathmandu",  # +05:45; jumped 15 minutes in 1986
    "Australia/Sydney",
    "Australia/Lord_Howe",  # 30-minute DST
    "Pacific/Auckland",
    "Pacific/Chatham",  # +12:45 / +13:45
    "UTC",
)
SPECIAL_TIMES = (time(0), time(0, 30), time(1, 30), time(2), time(2, 30), time(3), time(23, 59))
# How far back a repeated wall time can come round again: DST changes of
# 15 minutes to 2 hours. The first occurrence has a smaller reading at all of them.
LOOK_BACK = tuple(timedelta(minutes=m) for m in (1 / 60, 15, 30, 45, 60, 90, 120))
PERIOD_DAYS = {"daily": 1, "weekly": 7}


def wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def is_first_reading_at_or_after(instant: datetime, local: datetime, zone: ZoneInfo) -> bool:
    """True when `instant` is the first moment the wall clock reads `local` or later:
    it reads exactly `local`, or the clock jumped over `local` in the second before."""
    now = wall(instant, zone)
    exact = now == local
    jumped = now > local and wall(instant - timedelta(seconds=1), zone) < local
    first = all(wall(instant - back, zone) < local for back in LOOK_BACK)
    return (exact or jumped) and first


def anchor_of(layer: Layer) -> date:
    day = layer.start_date or date(1970, 1, 5)
    if layer.rotation == "weekly":
        while WEEKDAYS[day.weekday()] != layer.start_day:
            day += timedelta(days=1)
    return day


def handoff_day(instant: datetime, start_time: time, zone: ZoneInfo) -> date:
    """The local date whose handoff `instant` is (a gap may push it past midnight)."""
    reading = wall(instant, zone)
    day = reading.date()
    return day if datetime.combine(day, start_time) <= reading else day - timedelta(days=1)


@cache
def change_days(zone_name: str) -> tuple[date, ...]:
    """Local dates, 1985-2045, on which the zone's UTC offset changes."""
    zone = ZoneInfo(zone_name)
    found = []
    day = date(1985, 1, 1)
    previous = datetime.combine(day, time(12), zone).utcoffset()
    while day < date(2046, 1, 1):
        day += timedelta(days=1)
        offset = datetime.combine(day, time(12), zone).utcoffset()
        if offset != previous:
            found.append(day)
        previous = offset
    return tuple(found) or (date(2026, 1, 1),)


# Two draws in three come from the times that fall in gaps and repeats somewhere.
start_times = st.one_of(
    st.sampled_from(SPECIAL_TIMES),
    st.sampled_from(SPECIAL_TIMES),
    st.builds(time, st.integers(0, 23), st.integers(0, 59)),
)
layers = st.builds(
    Layer,
    rotation=st.sampled_from(("daily", "weekly")),
    participants=st.integers(1, 5).map(lambda n: tuple(f"p{i}" for i in range(n))),
    start_time=start_times,
    start_day=st.sampled_from(WEEKDAYS),
    start_date=st.one_of(st.none(), st.dates(date(1985, 1, 1), date(2045, 12, 31))),
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Schedule, datetime, datetime]:
    zone = draw(st.sampled_from(ZONES))
    layer = draw(layers)
    if draw(st.booleans()):
        # Around the anchor, so that the start of a rotation is covered.
        near = layer.start_date or draw(st.dates(date(1985, 1, 1), date(2045, 12, 31)))
        near += timedelta(days=draw(st.integers(-10, 3000)))
    else:
        # Just before a change of UTC offset, so that most ranges cross one.
        near = draw(st.sampled_from(change_days(zone))) - timedelta(days=draw(st.integers(0, 8)))
    if draw(st.booleans()):
        # Within two hours of a handoff: where an offset that changed since the
        # anchor moves it away from where whole 24-hour steps would put it.
        while layer.rotation == "weekly" and WEEKDAYS[near.weekday()] != layer.start_day:
            near += timedelta(days=1)
        handoff = datetime.combine(near, layer.start_time, ZoneInfo(zone)).astimezone(UTC)
        start = handoff + timedelta(minutes=draw(st.integers(-120, 120)))
    else:
        start = datetime.combine(near, time(0), UTC) + timedelta(minutes=draw(st.integers(0, 1439)))
    length = timedelta(days=draw(st.integers(0, 120)), minutes=draw(st.integers(1, 1440)))
    return Schedule("s", zone, (layer,)), start, start + length


def check_handoff(instant: datetime, layer: Layer, zone: ZoneInfo) -> date:
    day = handoff_day(instant, layer.start_time, zone)
    assert is_first_reading_at_or_after(instant, datetime.combine(day, layer.start_time), zone)
    if layer.rotation == "weekly":
        assert WEEKDAYS[day.weekday()] == layer.start_day
    return day


@settings(deadline=None)
@given(cases())
def test_shifts_tile_the_range_with_handoffs_at_the_local_start_time(case):
    schedule, start, end = case
    (layer,) = schedule.layers
    zone = ZoneInfo(schedule.timezone)
    anchor, period = anchor_of(layer), PERIOD_DAYS[layer.rotation]
    found = shifts(schedule, start, end)

    for shift in found:
        assert shift.start < shift.end
        assert shift.start < end and shift.end > start  # overlaps the range
        assert shift.source == layer.name
    for before, after in pairwise(found):
        assert before.end == after.start  # no gap, no overlap

    days = [check_handoff(shift.start, layer, zone) for shift in found]
    for shift, day in zip(found, days, strict=True):
        periods = (day - anchor).days
        assert periods >= 0 and periods % period == 0
        assert shift.user == layer.participants[(periods // period) % len(layer.participants)]
    for before, after in pairwise(days):
        assert (after - before).days == period
    if found:
        last_day = check_handoff(found[-1].end, layer, zone)
        assert (last_day - days[-1]).days == period
        assert found[-1].end >= end
        if found[0].start > start:  # the range starts before the rotation does
            assert days[0] == anchor
            assert oncall_at(schedule, start) == []
    else:  # the whole range lies before the rotation starts
        assert end <= datetime.combine(anchor, time(0), UTC) + timedelta(days=2)
        assert oncall_at(schedule, end - timedelta(microseconds=1)) == []


@settings(deadline=None)
@given(cases(), st.floats(0, 1, exclude_max=True))
def test_oncall_at_agrees_with_shifts_over_any_range(case, fraction):
    schedule, start, end = case
    at = start + (end - start) * fraction
    holding = [shift for shift in shifts(schedule, start, end) if shift.start <= at < shift.end]
    assert oncall_at(schedule, at) == holding
    assert shifts(schedule, at, at + timedelta(minutes=1))[:1] == holding[:1]


@settings(deadline=None)
@given(layers, st.sampled_from(ZONES), st.integers(0, 1500), st.data())
def test_jumping_to_an_instant_agrees_with_walking_from_the_first_shift(layer, zone, days, data):
    # shifts() from before the anchor steps through every period in turn;
    # oncall_at() jumps straight to the period, estimating it from elapsed
    # UTC time. Offsets that changed since the anchor must not fool the jump.
    schedule = Schedule("s", zone, (layer,))
    walk_from = datetime.combine(anchor_of(layer) - timedelta(days=2), time(0), UTC)
    walked = shifts(schedule, walk_from, walk_from + timedelta(days=days + 5))
    index = data.draw(st.integers(0, len(walked) - 1))
    shift = walked[index]
    tick = timedelta(microseconds=1)
    assert oncall_at(schedule, shift.start) == [shift]
    assert oncall_at(schedule, shift.end - tick) == [shift]
    before = walked[index - 1 : index] if index else []
    assert oncall_at(schedule, shift.start - tick) == before


@st.composite
def local_times_near_changes(draw: st.DrawFn) -> tuple[datetime, ZoneInfo]:
    name = draw(st.sampled_from(ZONES))
    day = draw(st.sampled_from(change_days(name)))
    minutes = draw(st.integers(-4 * 60, 5 * 60))  # changes happen around midnight to 04:00
    return datetime.combine(day, time(0)) + timedelta(minutes=minutes), ZoneInfo(name)


@given(local_times_near_changes())
def test_local_to_utc_gives_the_first_instant_reading_that_time_or_later(case):
    local, zone = case
    instant = local_to_utc(local, zone)
    assert instant.tzinfo is UTC
    assert is_first_reading_at_or_after(instant, local, zone)


@given(local_times_near_changes(), st.integers(0, 6 * 60))
def test_later_wall_times_never_map_to_earlier_instants(case, minutes):
    local, zone = case
    later = local + timedelta(minutes=minutes)
    assert local_to_utc(local, zone) <= local_to_utc(later, zone)


@given(
    st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1)).map(
        lambda naive: naive.replace(microsecond=0, tzinfo=UTC)
    ),
    st.sampled_from(ZONES),
)
def test_format_utc_output_reads_back_as_the_same_instant(instant, zone):
    text = format_utc(instant)
    assert len(text) == 20 and text.endswith("Z")
    assert parse_time(text, ZoneInfo(zone)) == instant


def test_the_oracle_notices_a_wrong_gap_answer():
    # zoneinfo's own fold=0 answer for 02:30 on a spring-forward day is 03:30;
    # the oracle must reject it, or the properties above prove nothing.
    zone = ZoneInfo("America/New_York")
    local = datetime(2026, 3, 8, 2, 30)
    naive_answer = local.replace(tzinfo=zone).astimezone(UTC)
    assert not is_first_reading_at_or_after(naive_answer, local, zone)
    second_occurrence = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=zone).astimezone(UTC)
    assert not is_first_reading_at_or_after(second_occurrence, datetime(2026, 11, 1, 1, 30), zone)
    assert is_first_reading_at_or_after(datetime(2026, 3, 8, 7, tzinfo=UTC), local, zone)
