"""Step arithmetic: next step, repeat passes, the end of a policy."""

from __future__ import annotations

from tocsin.config.model import EscalationPolicy, Step, Target
from tocsin.escalation.rules import Position, after, clamp

ALICE = (Target("user", "alice"),)


def policy(*timeouts: float, repeat: int = 0) -> EscalationPolicy:
    return EscalationPolicy("p", tuple(Step(ALICE, t) for t in timeouts), repeat=repeat)


def test_next_step_waits_for_the_current_steps_timeout():
    following = after(policy(5, 10, 0), Position(0, 0))

    assert following is not None
    assert following.position == Position(1, 0)
    assert following.after_minutes == 5


def test_last_step_without_repeat_ends_the_policy():
    assert after(policy(5, 10), Position(1, 0)) is None


def test_repeat_starts_a_new_pass_after_the_last_timeout():
    following = after(policy(5, 10, repeat=2), Position(1, 1))

    assert following is not None
    assert following.position == Position(0, 2)
    assert following.after_minutes == 10
    assert after(policy(5, 10, repeat=2), Position(1, 2)) is None


def test_a_position_beyond_a_shortened_policy_is_clamped():
    assert clamp(policy(5), Position(3, 4)) == Position(0, 0)
