"""Recording final shifts as they happen, so that edits never rewrite the past.

`record` is called by the engine once a minute for each schedule. It stores
the final shifts of [recorded_until, now), clipped to that range, and moves
the watermark to `now`; `service.final_shifts` then reads that time back
from the records instead of recomputing it (decision 0005). The first run
for a schedule only sets the watermark: history before it is not invented.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tocsin.config.model import Schedule
from tocsin.oncall import anchor_store, anchors, history_store
from tocsin.oncall.service import computed_shifts


def record(session: Session, *, schedule: Schedule, now: datetime,
           mark: history_store.ShiftWatermark | None = None) -> int:
    """Record `schedule` up to `now`; the number of pieces stored.

    The caller owns the transaction, and must commit it: the watermark row
    stays locked until then, which is what keeps two workers from recording
    the same range twice. `mark` is that row when the caller has locked it already.
    """
    if mark is None:
        mark = history_store.lock_watermark(session, schedule.name, now=now)
    since = mark.recorded_until
    if now <= since:
        return 0
    pieces = [
        history_store.RecordedShift(
            schedule=schedule.name, user_id=shift.user, source=shift.source,
            start_at=max(shift.start, since), end_at=min(shift.end, now),
            shift_start=shift.start)
        for shift in computed_shifts(session, schedule, since, now)
    ]
    history_store.add_pieces(session, pieces)
    mark.recorded_until = now
    return len(pieces)


def record_with_anchors(session: Session, *, schedule: Schedule, now: datetime) -> int:
    """Record `schedule` up to `now`, then anchor any edit to its participants.

    All under the watermark lock: a second worker waits, then finds the
    anchors the first stored. Time up to `now` is recorded with the
    participants the latest anchors saw, so an edit takes effect from the
    moment the engine sees it (decision 0005, part 2).
    """
    mark = history_store.lock_watermark(session, schedule.name, now=now)
    found = anchor_store.latest(session, schedule.name)
    stored = record(session, schedule=anchors.as_before(schedule, found), now=now, mark=mark)
    anchors.update(session, schedule=schedule, anchors=found, now=now)
    return stored
