"""Passwords for the web UI, stored as Argon2 hashes.

Users are defined in the config file; this table only holds the secret a
person logs in with. A hash is all that is kept: the password itself is
never stored, logged or put in the audit trail.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin import audit
from tocsin.db import Base, UTCDateTime

MIN_LENGTH = 8
# Argon2id with the library's current recommended parameters; `verify`
# upgrades older hashes when those recommendations change.
_HASHER = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Checked when the user has no password, so a failed login takes about as long
    whether or not the name exists. Made on first use: hashing costs tens of
    milliseconds of CPU, and every CLI command imports this module."""
    return _HASHER.hash("tocsin-no-such-user")


class UserPassword(Base):
    __tablename__ = "user_passwords"

    user_id: Mapped[str] = mapped_column(String(320), primary_key=True)
    hash: Mapped[str] = mapped_column(String(400))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WeakPassword(ValueError):
    """The password is too short to accept; the message says what is needed."""


def set_password(
    session: Session, *, user_id: str, password: str, now: datetime, actor: str, surface: str,
) -> None:
    """Store a new hash for `user_id` and audit the change. The caller commits."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    row = session.get(UserPassword, user_id)
    existed = row is not None
    if row is None:
        row = UserPassword(user_id=user_id, hash="", updated_at=now)
        session.add(row)
    row.hash = _HASHER.hash(password)
    row.updated_at = now
    audit.record(session, now=now, actor=actor, surface=surface, action="user.password_set",
                 object_type="user", object_id=user_id,
                 before={"had_password": existed}, after={"had_password": True})


def verify(session: Session, *, user_id: str, password: str, now: datetime) -> bool:
    """True when `password` is the user's. May refresh the hash; the caller commits."""
    row = session.scalars(select(UserPassword).where(UserPassword.user_id == user_id)).first()
    if row is None:
        _check(_dummy_hash(), password)
        return False
    if not _check(row.hash, password):
        return False
    if _HASHER.check_needs_rehash(row.hash):
        row.hash = _HASHER.hash(password)
        row.updated_at = now
    return True


def _check(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
