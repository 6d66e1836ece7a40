"""Where an escalation goes next: pure step arithmetic.

`repeat: N` runs the whole policy N more times; the last step's timeout is
the wait before the next pass. Without a repeat, the last step ends the
policy. Positions are (step index from 0, pass number from 0).
"""

from __future__ import annotations

from dataclasses import dataclass

from tocsin.config.model import EscalationPolicy

# The longest wait the engine will schedule. A timeout the config allows but
# a calendar cannot hold (1e12 minutes) must not stop paging.
MAX_WAIT_MINUTES = 366 * 24 * 60.0


@dataclass(frozen=True)
class Position:
    step: int
    pass_number: int


@dataclass(frozen=True)
class NextStep:
    position: Position
    after_minutes: float


def first_position() -> Position:
    return Position(step=0, pass_number=0)


def after(policy: EscalationPolicy, position: Position) -> NextStep | None:
    """The step that follows `position` once its timeout runs out, or None."""
    timeout = min(policy.steps[position.step].timeout_minutes, MAX_WAIT_MINUTES)
    last = len(policy.steps) - 1
    if position.step < last:
        return NextStep(Position(position.step + 1, position.pass_number), timeout)
    if position.pass_number < policy.repeat and timeout > 0:
        return NextStep(Position(0, position.pass_number + 1), timeout)
    return None


def is_final(policy: EscalationPolicy, position: Position) -> bool:
    return after(policy, position) is None


def clamp(policy: EscalationPolicy, position: Position) -> Position:
    """Keep a stored position valid after a reload shortened the policy."""
    step = min(position.step, len(policy.steps) - 1)
    return Position(max(step, 0), min(position.pass_number, policy.repeat))
