"""Cases: open texts sealed at rest. Each of title, summary, pseudonym and narrative gets a
sealed column ``<field>_original`` beside it; the field's own column keeps its scrubbed form.

A migration cannot seal: it has no node key. Texts already written stay in their columns as
they are (nothing is lost, and pages scrub them as they are read, or hide them while the node
is locked) until ``rabita records seal-texts`` is run once on the unlocked node; any save of a
case seals its texts too. Going down refuses while any text is sealed (dropping the sealed
columns would lose what was written): run ``rabita records unseal-texts`` first.

Revision ID: cases_0004
Revises: cases_0003
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "cases_0004"
down_revision = "cases_0003"
branch_labels = None
depends_on = None

SEALED_TEXTS = (
    ("cases_case", "title_original"),
    ("cases_case", "summary_original"),
    ("cases_defender", "pseudonym_original"),
    ("cases_incident", "narrative_original"),
)


def upgrade():
    for table, column in SEALED_TEXTS:
        op.add_column(table, sa.Column(column, sa.LargeBinary(), nullable=True))


def downgrade():
    connection = op.get_bind()
    for table, column in SEALED_TEXTS:
        sealed = connection.execute(sa.select(sa.func.count()).select_from(sa.table(table))
                                    .where(sa.column(column).is_not(None))).scalar()
        if sealed:
            raise RuntimeError(
                f"{sealed} texts in {table}.{column} are sealed; going below cases_0004 would "
                "lose them. Run `rabita records unseal-texts` on the unlocked node first. "
                "Nothing was changed."
            )
    for table, column in SEALED_TEXTS:
        op.drop_column(table, column)
