"""Cases: cases, defenders, incidents, support, tasks, files, facets, tallies, search index.

Revision ID: cases_0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "cases_0001"
down_revision = None
branch_labels = ("cases",)
depends_on = "core_0002"

# Copied, not imported, so this migration never changes when the plugin does.
SEARCH_INDEX = {
    "sqlite": [
        "CREATE VIRTUAL TABLE cases_search USING fts5("
        "document, tokenize = 'unicode61 remove_diacritics 0', detail = none)",
    ],
    "postgresql": [
        "CREATE TABLE cases_search ("
        "case_id INTEGER PRIMARY KEY REFERENCES cases_case (id) ON DELETE CASCADE, "
        "document TSVECTOR NOT NULL)",
        "CREATE INDEX ix_cases_search_document ON cases_search USING GIN (document)",
    ],
}


def upgrade():
    op.create_table(
        "cases_tally",
        sa.Column("origin", sa.String(length=64), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("risk", sa.String(length=20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "origin", "restricted", "status", "risk", name=op.f("pk_cases_tally")
        ),
    )
    op.create_table(
        "cases_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("risk", sa.String(length=20), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("assigned_to_id", sa.Integer(), nullable=True),
        sa.Column("first_incident_on", sa.Date(), nullable=True),
        sa.Column("last_incident_on", sa.Date(), nullable=True),
        sa.Column("violation_codes", sa.String(length=400), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("origin", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("data_key", sa.LargeBinary(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assigned_to_id"],
            ["core_user.id"],
            name=op.f("fk_cases_case_assigned_to_id_core_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["core_user.id"],
            name=op.f("fk_cases_case_author_id_core_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases_case")),
        sa.UniqueConstraint("uuid", name=op.f("uq_cases_case_uuid")),
    )
    with op.batch_alter_table("cases_case", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cases_case_assigned_listing",
            ["assigned_to_id", "restricted", "origin", "status", "risk"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_cases_case_assigned_to_id"), ["assigned_to_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cases_case_author_id"), ["author_id"], unique=False)
        batch_op.create_index(
            "ix_cases_case_listing",
            ["origin", "updated_at", "id", "restricted", "assigned_to_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_cases_case_risk_listing",
            ["risk", "updated_at", "id", "origin", "restricted", "assigned_to_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_cases_case_status_listing",
            ["status", "updated_at", "id", "origin", "restricted", "assigned_to_id"],
            unique=False,
        )

    op.create_table(
        "cases_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("filename", sa.LargeBinary(), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases_case.id"],
            name=op.f("fk_cases_attachment_case_id_cases_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["core_user.id"],
            name=op.f("fk_cases_attachment_uploaded_by_core_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases_attachment")),
    )
    with op.batch_alter_table("cases_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_attachment_case_id"), ["case_id"], unique=False)

    op.create_table(
        "cases_defender",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=100), nullable=False),
        sa.Column("gender", sa.String(length=20), nullable=True),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("activism", sa.JSON(), nullable=False),
        sa.Column("residence", sa.String(length=40), nullable=True),
        sa.Column("real_name", sa.LargeBinary(), nullable=True),
        sa.Column("real_name_index", sa.String(length=64), nullable=True),
        sa.Column("contacts", sa.LargeBinary(), nullable=True),
        sa.Column("address", sa.LargeBinary(), nullable=True),
        sa.Column("organisation", sa.LargeBinary(), nullable=True),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases_case.id"],
            name=op.f("fk_cases_defender_case_id_cases_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases_defender")),
        sa.UniqueConstraint("case_id", name=op.f("uq_cases_defender_case_id")),
    )
    with op.batch_alter_table("cases_defender", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cases_defender_real_name_index"), ["real_name_index"], unique=False
        )

    op.create_table(
        "cases_facet",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=64), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("assigned_to_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("risk", sa.String(length=20), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_incident_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases_case.id"],
            name=op.f("fk_cases_facet_case_id_cases_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("kind", "value", "case_id", name=op.f("pk_cases_facet")),
    )
    with op.batch_alter_table("cases_facet", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_facet_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            "ix_cases_facet_listing",
            ["kind", "value", "updated_at", "case_id", "origin", "restricted", "assigned_to_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_cases_facet_risk_listing",
            [
                "kind",
                "value",
                "risk",
                "updated_at",
                "case_id",
                "origin",
                "restricted",
                "assigned_to_id",
            ],
            unique=False,
        )
        batch_op.create_index(
            "ix_cases_facet_status_listing",
            [
                "kind",
                "value",
                "status",
                "updated_at",
                "case_id",
                "origin",
                "restricted",
                "assigned_to_id",
            ],
            unique=False,
        )

    op.create_table(
        "cases_incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=True),
        sa.Column("place", sa.String(length=40), nullable=True),
        sa.Column("violation", sa.String(length=40), nullable=False),
        sa.Column("perpetrator_type", sa.String(length=40), nullable=True),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("place_detail", sa.LargeBinary(), nullable=True),
        sa.Column("perpetrator_identity", sa.LargeBinary(), nullable=True),
        sa.Column("sources", sa.LargeBinary(), nullable=True),
        sa.Column("source_reliability", sa.LargeBinary(), nullable=True),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases_case.id"],
            name=op.f("fk_cases_incident_case_id_cases_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases_incident")),
    )
    with op.batch_alter_table("cases_incident", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_incident_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            "ix_cases_incident_occurred_on_case_id", ["occurred_on", "case_id"], unique=False
        )

    op.create_table(
        "cases_intervention",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.LargeBinary(), nullable=True),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases_case.id"],
            name=op.f("fk_cases_intervention_case_id_cases_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases_intervention")),
    )
    with op.batch_alter_table("cases_intervention", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cases_intervention_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "cases_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("assigned_to_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("description", sa.LargeBinary(), nullable=True),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_to_id"],
            ["core_user.id"],
            name=op.f("fk_cases_task_assigned_to_id_core_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases_case.id"],
            name=op.f("fk_cases_task_case_id_cases_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases_task")),
    )
    with op.batch_alter_table("cases_task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_task_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_task_due_on"), ["due_on"], unique=False)
    for statement in SEARCH_INDEX[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade():
    op.execute("DROP TABLE IF EXISTS cases_search")
    with op.batch_alter_table("cases_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_task_due_on"))
        batch_op.drop_index(batch_op.f("ix_cases_task_case_id"))

    op.drop_table("cases_task")
    with op.batch_alter_table("cases_intervention", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_intervention_case_id"))

    op.drop_table("cases_intervention")
    with op.batch_alter_table("cases_incident", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_incident_occurred_on_case_id")
        batch_op.drop_index(batch_op.f("ix_cases_incident_case_id"))

    op.drop_table("cases_incident")
    with op.batch_alter_table("cases_facet", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_facet_status_listing")
        batch_op.drop_index("ix_cases_facet_risk_listing")
        batch_op.drop_index("ix_cases_facet_listing")
        batch_op.drop_index(batch_op.f("ix_cases_facet_case_id"))

    op.drop_table("cases_facet")
    with op.batch_alter_table("cases_defender", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_defender_real_name_index"))

    op.drop_table("cases_defender")
    with op.batch_alter_table("cases_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_attachment_case_id"))

    op.drop_table("cases_attachment")
    with op.batch_alter_table("cases_case", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_case_status_listing")
        batch_op.drop_index("ix_cases_case_risk_listing")
        batch_op.drop_index("ix_cases_case_listing")
        batch_op.drop_index(batch_op.f("ix_cases_case_author_id"))
        batch_op.drop_index(batch_op.f("ix_cases_case_assigned_to_id"))
        batch_op.drop_index("ix_cases_case_assigned_listing")

    op.drop_table("cases_case")
    op.drop_table("cases_tally")
