"""Secrets Tocsin makes for itself and keeps in the database.

The key that signs links in notifications lives here rather than in the
config file, so every process sharing the database signs and checks alike.
"""

from __future__ import annotations

import secrets

from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from tocsin.db import Base

LINK_SIGNING = "link_signing"


class AppSecret(Base):
    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


def get_or_create(factory: sessionmaker[Session], name: str) -> str:
    with factory() as session:
        found = session.scalars(select(AppSecret.value).where(AppSecret.name == name)).first()
        if found is not None:
            return found
        session.add(AppSecret(name=name, value=secrets.token_urlsafe(48)))
        try:
            session.commit()
        except IntegrityError:
            # Another process made it first; theirs is the one.
            session.rollback()
        value = session.scalars(select(AppSecret.value).where(AppSecret.name == name)).one()
        return value
