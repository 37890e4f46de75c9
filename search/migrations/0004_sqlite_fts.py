from django.db import migrations

# FTS5 over the folded text (SQLite only). External content: the index stores no text of its
# own; triggers keep it in step with search_searchentry. Tokens are our words exactly
# (letters, digits, underscore), so MATCH '"w1" "w2"' == every word present, whole.
CREATE = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
        folded_headline, folded_text, content='search_searchentry', content_rowid='id',
        tokenize="unicode61 remove_diacritics 0 tokenchars '_'", prefix='2 3')""",
    """CREATE TRIGGER IF NOT EXISTS search_fts_ai AFTER INSERT ON search_searchentry BEGIN
        INSERT INTO search_fts(rowid, folded_headline, folded_text)
        VALUES (new.id, new.folded_headline, new.folded_text);
    END""",
    """CREATE TRIGGER IF NOT EXISTS search_fts_ad AFTER DELETE ON search_searchentry BEGIN
        INSERT INTO search_fts(search_fts, rowid, folded_headline, folded_text)
        VALUES ('delete', old.id, old.folded_headline, old.folded_text);
    END""",
    """CREATE TRIGGER IF NOT EXISTS search_fts_au AFTER UPDATE OF folded_headline, folded_text
        ON search_searchentry BEGIN
        INSERT INTO search_fts(search_fts, rowid, folded_headline, folded_text)
        VALUES ('delete', old.id, old.folded_headline, old.folded_text);
        INSERT INTO search_fts(rowid, folded_headline, folded_text)
        VALUES (new.id, new.folded_headline, new.folded_text);
    END""",
    "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
]
DROP = [
    "DROP TRIGGER IF EXISTS search_fts_ai",
    "DROP TRIGGER IF EXISTS search_fts_ad",
    "DROP TRIGGER IF EXISTS search_fts_au",
    "DROP TABLE IF EXISTS search_fts",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0003_searchentry_facets")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
