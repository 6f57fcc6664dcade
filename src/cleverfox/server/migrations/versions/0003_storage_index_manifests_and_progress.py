"""storage: company keys, packs, the chunk index, manifests, staged pages; Log progress

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "storage_chunks",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("chunk_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("pack_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("stored_length", sa.Integer(), nullable=False),
        sa.Column("codec", sa.SmallInteger(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("crc32", sa.BigInteger(), nullable=False),
        sa.Column("refs", sa.BigInteger(), nullable=False),
        sa.Column("unreferenced_since", sa.DateTime(), nullable=True),
        sa.Column("added_on", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("company_id", "chunk_id", name=op.f("pk_storage_chunks")),
    )
    with op.batch_alter_table("storage_chunks", schema=None) as batch_op:
        batch_op.create_index("ix_storage_chunks_pack_id", ["pack_id"], unique=False)
        batch_op.create_index(
            "ix_storage_chunks_unreferenced_since", ["unreferenced_since"], unique=False
        )

    op.create_table(
        "storage_companies",
        sa.Column(
            "company_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("wrapped_keys", sa.Text(), nullable=False),
        sa.Column("stored_bytes", sa.BigInteger(), nullable=False),
        sa.Column("chunk_count", sa.BigInteger(), nullable=False),
        sa.Column("limit_mailed_on", sa.DateTime(), nullable=True),
        sa.Column("added_on", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_storage_companies")),
    )
    op.create_table(
        "storage_manifests",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("job_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("log_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "log_item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("blob_name", sa.String(length=100), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("archive_digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("archive_size", sa.BigInteger(), nullable=False),
        sa.Column("list_size", sa.BigInteger(), nullable=False),
        sa.Column("entry_count", sa.BigInteger(), nullable=False),
        sa.Column("plain_bytes", sa.BigInteger(), nullable=False),
        sa.Column("stored_bytes", sa.BigInteger(), nullable=False),
        sa.Column("chunk_count", sa.BigInteger(), nullable=False),
        sa.Column("added_on", sa.DateTime(), nullable=False),
        sa.Column("deleted_on", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_manifests")),
        sa.UniqueConstraint("blob_name", name=op.f("uq_storage_manifests_blob_name")),
        sa.UniqueConstraint("log_item_id", name=op.f("uq_storage_manifests_log_item_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("storage_manifests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_storage_manifests_company_id_id", ["company_id", "id"], unique=False
        )
        batch_op.create_index("ix_storage_manifests_device_id", ["device_id"], unique=False)
        batch_op.create_index("ix_storage_manifests_job_id_id", ["job_id", "id"], unique=False)
        batch_op.create_index("ix_storage_manifests_log_id", ["log_id"], unique=False)

    op.create_table(
        "storage_packs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("added_on", sa.DateTime(), nullable=False),
        sa.Column("retired_on", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_packs")),
        sa.UniqueConstraint("name", name=op.f("uq_storage_packs_name")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("storage_packs", schema=None) as batch_op:
        batch_op.create_index("ix_storage_packs_company_id_id", ["company_id", "id"], unique=False)
        batch_op.create_index("ix_storage_packs_retired_on", ["retired_on"], unique=False)

    op.create_table(
        "storage_staged_pages",
        sa.Column("log_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "job_item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("page_no", sa.Integer(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("added_on", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "log_id", "job_item_id", "page_no", name=op.f("pk_storage_staged_pages")
        ),
    )
    with op.batch_alter_table("log_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "stored_bytes", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )

    with op.batch_alter_table("logs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("progress", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("logs", schema=None) as batch_op:
        batch_op.drop_column("progress")

    with op.batch_alter_table("log_items", schema=None) as batch_op:
        batch_op.drop_column("stored_bytes")

    op.drop_table("storage_staged_pages")
    with op.batch_alter_table("storage_packs", schema=None) as batch_op:
        batch_op.drop_index("ix_storage_packs_retired_on")
        batch_op.drop_index("ix_storage_packs_company_id_id")

    op.drop_table("storage_packs")
    with op.batch_alter_table("storage_manifests", schema=None) as batch_op:
        batch_op.drop_index("ix_storage_manifests_log_id")
        batch_op.drop_index("ix_storage_manifests_job_id_id")
        batch_op.drop_index("ix_storage_manifests_device_id")
        batch_op.drop_index("ix_storage_manifests_company_id_id")

    op.drop_table("storage_manifests")
    op.drop_table("storage_companies")
    with op.batch_alter_table("storage_chunks", schema=None) as batch_op:
        batch_op.drop_index("ix_storage_chunks_unreferenced_since")
        batch_op.drop_index("ix_storage_chunks_pack_id")

    op.drop_table("storage_chunks")
