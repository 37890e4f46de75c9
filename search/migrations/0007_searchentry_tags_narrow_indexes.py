from django.db import migrations, models

from search import fts


def tag_and_reindex(apps, schema_editor):
    """Fill ``tags``; on SQLite recreate the FTS table with its ``tags`` column and add the
    covering indexes the search reads (search/fts.py)."""
    SearchEntry = apps.get_model("search", "SearchEntry")
    SearchEntry.objects.filter(public=True).update(tags="|public")
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        for sql in fts.DROP_TRIGGERS + fts.DROP_TABLE + fts.CREATE_TABLE + fts.CREATE_TRIGGERS:
            cursor.execute(sql)
        for sql in fts.REBUILD + fts.CREATE_INDEXES:
            cursor.execute(sql)


def drop_indexes_and_fts(apps, schema_editor):
    """Backwards, before ``tags`` goes: its triggers would refuse the column's removal."""
    if schema_editor.connection.vendor == "sqlite":
        for sql in fts.DROP_INDEXES + fts.DROP_TRIGGERS + fts.DROP_TABLE:
            schema_editor.execute(sql)


def fts_as_in_0006(apps, schema_editor):
    """Backwards, after ``tags`` is gone (SQLite rebuilt the table): 0006's FTS again."""
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        for sql in fts.DROP_TRIGGERS + fts.DROP_TABLE + fts.CREATE_TABLE_0006:
            cursor.execute(sql)
        for sql in fts.CREATE_TRIGGERS_0006 + fts.REBUILD:
            cursor.execute(sql)


class Migration(migrations.Migration):
    """``tags``: filter tokens for the FTS index, so that the public's searches count their
    matches in the index alone; on SQLite, covering indexes of the short columns, so that a
    search never reads the wide rows (see search/fts.py). Like the FTS triggers, the indexes
    are lost when SQLite rebuilds the table: a later migration of this model re-runs this."""

    dependencies = [("search", "0006_sqlite_narrow_rows")]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, fts_as_in_0006),
        migrations.AddField(
            model_name="searchentry",
            name="tags",
            field=models.TextField(blank=True, null=True),
        ),
        migrations.RunPython(tag_and_reindex, drop_indexes_and_fts),
    ]
