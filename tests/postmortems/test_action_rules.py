"""Action item maths: reminder times in the owner's zone, digests, tracker status."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tocsin.postmortems import action_rules as rules
from tocsin.postmortems.action_rules import DigestItem, ReminderPlan

BANGKOK = ZoneInfo("Asia/Bangkok")  # UTC+7, no DST
NEW_YORK = ZoneInfo("America/New_York")
PLAN = ReminderPlan(before_days=2, every_days_overdue=2, at=time(9, 0))
DUE = date(2026, 3, 10)


def utc(day: int, hour: int = 0, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def slots(zone: ZoneInfo, after: datetime, count: int) -> list[tuple[str, datetime]]:
    found = []
    for pair in rules.reminder_slots(DUE, PLAN, zone, after):
        found.append(pair)
        if len(found) == count:
            break
    return found


def test_two_days_before_on_the_day_then_every_two_days_at_nine_in_the_owners_zone():
    assert slots(BANGKOK, utc(1), 5) == [
        ("before", utc(8, 2)), ("due", utc(10, 2)), ("overdue", utc(12, 2)),
        ("overdue", utc(14, 2)), ("overdue", utc(16, 2)),
    ]


def test_reminders_follow_the_local_clock_across_a_dst_change():
    # New York springs forward on 2026-03-08: 09:00 is 14:00 UTC before, 13:00 after.
    assert slots(NEW_YORK, utc(1), 3) == [
        ("before", utc(8, 13)), ("due", utc(10, 13)), ("overdue", utc(12, 13))]
    assert slots(NEW_YORK, utc(1), 1) != [("before", utc(8, 14))]


def test_settings_change_the_spacing_and_zero_means_none():
    plan = ReminderPlan(before_days=0, every_days_overdue=0, at=time(16, 30))
    assert list(rules.reminder_slots(DUE, plan, BANGKOK, utc(1))) == [("due", utc(10, 9, 30))]


def test_next_reminder_follows_the_last_planned_one():
    found = rules.next_reminder(DUE, PLAN, BANGKOK, last=utc(8, 2), now=utc(8, 2, 1))
    assert found == rules.Reminder(kind="due", slot=utc(10, 2), due_at=utc(10, 2))


def test_a_new_item_already_overdue_gets_the_next_overdue_reminder_not_the_past_ones():
    found = rules.next_reminder(DUE, PLAN, BANGKOK, last=None, now=utc(11, 5))
    assert found == rules.Reminder(kind="overdue", slot=utc(12, 2), due_at=utc(12, 2))


def test_after_downtime_only_the_latest_missed_reminder_goes_and_at_once():
    # Last sent: the "before" reminder on the 8th; the engine was down until the 15th.
    found = rules.next_reminder(DUE, PLAN, BANGKOK, last=utc(8, 2), now=utc(15, 6))
    assert found == rules.Reminder(kind="overdue", slot=utc(14, 2), due_at=utc(15, 6))


def test_a_slightly_late_reminder_keeps_its_slot():
    found = rules.next_reminder(DUE, PLAN, BANGKOK, last=utc(8, 2), now=utc(10, 2, 30))
    assert found == rules.Reminder(kind="due", slot=utc(10, 2), due_at=utc(10, 2, 30))


def test_no_reminder_left_when_overdue_repeats_are_off():
    plan = ReminderPlan(before_days=2, every_days_overdue=0)
    assert rules.next_reminder(DUE, plan, BANGKOK, last=utc(10, 2), now=utc(10, 3)) is None


def test_an_item_a_year_late_finds_its_next_reminder_quickly():
    found = rules.next_reminder(DUE, PLAN, BANGKOK, last=None, now=utc(11, 0, month=3)
                                + timedelta(days=365))
    assert found is not None and found.kind == "overdue"
    assert (found.slot.astimezone(BANGKOK).date() - DUE).days % 2 == 0


def test_is_slot_names_the_kind_and_refuses_other_times():
    assert rules.is_slot(DUE, PLAN, BANGKOK, utc(12, 2)) == "overdue"
    assert rules.is_slot(DUE, PLAN, BANGKOK, utc(8, 2)) == "before"
    assert rules.is_slot(DUE, PLAN, BANGKOK, utc(11, 2)) is None
    assert rules.is_slot(DUE, PLAN, NEW_YORK, utc(8, 2)) is None


def test_overdue_starts_the_day_after_the_due_date_in_the_owners_zone():
    # 2026-03-10 17:30 UTC is already the 11th in Bangkok, still the 10th in New York.
    assert rules.is_overdue(DUE, "planned", utc(10, 17, 30), BANGKOK)
    assert not rules.is_overdue(DUE, "planned", utc(10, 17, 30), NEW_YORK)
    assert not rules.is_overdue(DUE, "done", utc(20), BANGKOK)
    assert not rules.is_overdue(None, "planned", utc(20), BANGKOK)


def test_reminder_text_says_how_long_until_or_since_the_due_date():
    def text(now: datetime) -> str:
        return rules.reminder_text("due", item_id=4, title="Add a disk alert", due=DUE,
                                   incident="INC-7", now=now, zone=BANGKOK, url="http://t/x")

    assert text(utc(8, 2)).startswith("Action item #4 is due in 2 days (2026-03-10): "
                                      "Add a disk alert [INC-7]")
    assert text(utc(10, 2)).startswith("Action item #4 is due today")
    assert text(utc(14, 2)).startswith("Action item #4 is overdue by 4 days (due 2026-03-10)")


def test_digest_time_is_the_last_weekly_occurrence_in_the_file_zone():
    # 2026-03-02 is a Monday.
    assert rules.digest_slot(utc(2, 9), UTC, "mon", time(9)) == utc(2, 9)
    assert rules.digest_slot(utc(2, 8, 59), UTC, "mon", time(9)) == datetime(
        2026, 2, 23, 9, tzinfo=UTC)
    assert rules.digest_slot(utc(5, 12), BANGKOK, "thu", time(16)) == utc(5, 9)


def item(number: int, owner: str, due: date | None, status: str = "planned",
         completed_at: datetime | None = None, priority: str = "P1") -> DigestItem:
    return DigestItem(id=number, title=f"item {number}", owner=owner, due=due,
                      priority=priority, status=status, completed_at=completed_at,
                      incident="INC-1")


def test_a_teams_digest_lists_overdue_first_then_open_then_done_this_week():
    now = utc(16, 9)
    items = [
        item(1, "alice", date(2026, 3, 20)),
        item(2, "bob", date(2026, 3, 12)),
        item(3, "alice", date(2026, 3, 14), status="in_progress"),
        item(4, "alice", None),
        item(5, "bob", date(2026, 3, 1), status="done", completed_at=utc(12)),
        item(6, "bob", date(2026, 3, 1), status="done", completed_at=utc(2)),
        item(7, "carol", date(2026, 3, 1)),  # not in the team
    ]
    digest = rules.team_digest(items, ["alice", "bob"], now=now, zone=UTC)

    assert [i.id for i in digest.overdue] == [2, 3]
    assert [i.id for i in digest.open] == [1, 4]
    assert [i.id for i in digest.done] == [5]
    text = rules.digest_text("payments", digest, url="http://t/ui/action-items?team=payments")
    assert text.splitlines()[0] == ("Weekly action items for payments: 2 overdue, 2 open, "
                                    "1 done in the last 7 days")
    assert "- #2 [P1] item 2 (bob, due 2026-03-12, INC-1)" in text


def test_tracker_status_closes_and_reopens_only_what_the_tracker_closed():
    assert rules.status_from_tracker(item_status="planned", was_done=False,
                                     now_done=True) == "done"
    assert rules.status_from_tracker(item_status="done", was_done=True,
                                     now_done=False) == "in_progress"
    # Marked done here while the issue is still open: it stays done.
    assert rules.status_from_tracker(item_status="done", was_done=False,
                                     now_done=False) is None
    assert rules.status_from_tracker(item_status="in_progress", was_done=False,
                                     now_done=False) is None
    stored = rules.far_status_value(True, "Done")
    assert rules.far_is_done(stored) and rules.far_label(stored) == "Done"


def test_a_title_is_one_line_of_printable_text():
    assert rules.unprintable("Alert on disk usage > 90% (ünïcode, emoji 🚨)") is None
    assert rules.unprintable("one\ntwo") == "line break"
    assert rules.unprintable("one\r\ntwo") == "line break"
    assert rules.unprintable("one\u2029two") == "line break"
    assert rules.unprintable("tab\there") == "control character U+0009"
    assert rules.unprintable("\x1b[31mred") == "control character U+001B"
