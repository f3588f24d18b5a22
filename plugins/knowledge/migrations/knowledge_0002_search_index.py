"""knowledge: the search index of the catalogue (FTS5 on SQLite, tsvector + GIN on PostgreSQL)

Revision ID: knowledge_0002
Revises: knowledge_0001
Create Date: 2026-12-06 11:05:00
"""

from alembic import op

revision = "knowledge_0002"
down_revision = "knowledge_0001"
branch_labels = None
depends_on = None

# Copied, not imported, so this migration never changes when the plugin does.
SEARCH_INDEX = {
    "sqlite": [
        "CREATE VIRTUAL TABLE knowledge_search USING fts5("
        "title, head, body, facets, "
        "tokenize = \"unicode61 remove_diacritics 0 tokenchars '=_'\")",
        "CREATE TRIGGER knowledge_search_forget AFTER DELETE ON knowledge_entry "
        "BEGIN DELETE FROM knowledge_search WHERE rowid = old.id; END",
    ],
    "postgresql": [
        "CREATE TABLE knowledge_search ("
        "entry_id INTEGER PRIMARY KEY REFERENCES knowledge_entry (id) ON DELETE CASCADE, "
        "document TSVECTOR NOT NULL)",
        "CREATE INDEX ix_knowledge_search_document ON knowledge_search USING GIN (document)",
    ],
}


def upgrade():
    for statement in SEARCH_INDEX[op.get_bind().dialect.name]:
        op.execute(statement)
    # Entries already in the catalogue are indexed by `rabita knowledge reindex` (an empty
    # catalogue at this revision: knowledge_0001 came just before).


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS knowledge_search_forget")
    op.execute("DROP TABLE IF EXISTS knowledge_search")
