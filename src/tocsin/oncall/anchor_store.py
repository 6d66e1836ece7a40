"""Rotation anchors: who takes the current period of a layer, from when.

One row per change the engine has seen to a layer's participants (decision
0005, part 2). The latest row of a layer is the one in force. A row with no
`anchor_date` is the file's own definition: the first sight of a layer, or
a change the rotation's maths has nothing to carry over for.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Index, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin.db import Base, UTCDateTime


class RotationAnchor(Base):
    __tablename__ = "rotation_anchors"
    __table_args__ = (Index("ix_rotation_anchors_layer", "schedule", "layer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule: Mapped[str] = mapped_column(String(200))
    layer: Mapped[str] = mapped_column(String(200))
    participants: Mapped[list[str]] = mapped_column(JSON)  # user ids, in file order
    anchor_date: Mapped[date | None] = mapped_column(Date, nullable=True)  # local date
    first_participant: Mapped[str | None] = mapped_column(String(320), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def from_file(self) -> bool:
        return self.anchor_date is None or self.first_participant is None


def latest(session: Session, schedule: str) -> dict[str, RotationAnchor]:
    """The anchor in force for each layer of `schedule`, by layer name."""
    query = (select(RotationAnchor).where(RotationAnchor.schedule == schedule)
             .order_by(RotationAnchor.id))
    # Later rows overwrite earlier ones: the last of each layer wins.
    return {row.layer: row for row in session.scalars(query)}


def add(session: Session, anchor: RotationAnchor) -> None:
    session.add(anchor)
    session.flush()
