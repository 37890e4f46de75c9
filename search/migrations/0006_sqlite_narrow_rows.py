import re

from django.db import migrations

from search import fts

# SQLite reads a row's columns in order and keeps long text in overflow pages: with the
# texts first, reading a match's date or status walked its whole text. This puts the long
# texts last, then rebuilds the FTS index with one column per field (and "|" as a token,
# so a phrase never runs from one field into the next) for the database to rank from the
# index alone. A later migration that remakes this table on SQLite must run this again.
TABLE = "search_searchentry"
LONG = ["summary", "body", "folded_summary", "folded_text", "exact_text"]


def narrow_rows(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        for sql in fts.DROP_TRIGGERS + fts.DROP_TABLE:
            cursor.execute(sql)
        cursor.execute("SELECT sql FROM sqlite_master WHERE type='table' AND name=%s", [TABLE])
        (create,) = cursor.fetchone()
        definitions = re.split(r', (?=")', create[create.index("(") + 1 : create.rindex(")")])
        name = lambda d: d.split('"')[1]  # noqa: E731
        ordered = sorted(definitions, key=lambda d: (name(d) in LONG, LONG.index(name(d))
                                                     if name(d) in LONG else 0))  # fmt: skip
        columns = ", ".join(f'"{name(d)}"' for d in ordered)
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name=%s AND sql IS NOT NULL",
            [TABLE],
        )
        indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute(f'CREATE TABLE "{TABLE}__narrow" ({", ".join(ordered)})')
        cursor.execute(f'INSERT INTO "{TABLE}__narrow" ({columns}) SELECT {columns} FROM {TABLE}')
        cursor.execute(f'DROP TABLE "{TABLE}"')
        cursor.execute(f'ALTER TABLE "{TABLE}__narrow" RENAME TO "{TABLE}"')
        for sql in indexes:
            cursor.execute(sql)
        for sql in fts.CREATE_TABLE_0006 + fts.CREATE_TRIGGERS_0006 + fts.REBUILD:
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("search", "0005_searchentry_folded_summary")]

    operations = [migrations.RunPython(narrow_rows, migrations.RunPython.noop)]
