"""postmortems: an exact version for edits, and the why-chain as searchable text

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 07:00:00
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An edit says which version it was made on; whole-second times could not tell two
    # saves in the same second apart.
    op.add_column("postmortems", sa.Column("version", sa.Integer, nullable=False,
                                           server_default="1"))
    # JSON keeps other than ASCII as \u escapes, which a LIKE search cannot match.
    op.add_column("postmortems", sa.Column("whys_text", sa.Text, nullable=False,
                                           server_default=""))
    table = sa.table("postmortems", sa.column("id", sa.Integer),
                     sa.column("whys", sa.JSON), sa.column("whys_text", sa.Text))
    connection = op.get_bind()
    for row in connection.execute(sa.select(table.c.id, table.c.whys)).all():
        steps = row.whys if not isinstance(row.whys, str) else json.loads(row.whys)
        text = "\n".join(str(step.get(part) or "") for step in steps or []
                         for part in ("why", "because"))
        connection.execute(table.update().where(table.c.id == row.id).values(whys_text=text))


def downgrade() -> None:
    with op.batch_alter_table("postmortems", schema=None) as batch_op:
        batch_op.drop_column("whys_text")
        batch_op.drop_column("version")
