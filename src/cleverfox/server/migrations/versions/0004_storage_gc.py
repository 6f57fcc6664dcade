"""storage gc: released references and deleted blobs of manifests; orphan blobs

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("storage_manifests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refs_released_on", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("blob_deleted_on", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_storage_manifests_deleted_on", ["deleted_on"], unique=False)
    op.create_table(
        "storage_orphans",
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("seen_on", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_storage_orphans")),
    )


def downgrade() -> None:
    op.drop_table("storage_orphans")
    with op.batch_alter_table("storage_manifests", schema=None) as batch_op:
        batch_op.drop_index("ix_storage_manifests_deleted_on")
        batch_op.drop_column("blob_deleted_on")
        batch_op.drop_column("refs_released_on")
