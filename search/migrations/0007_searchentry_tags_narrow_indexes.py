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


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in fts.DROP_INDEXES:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    """``tags``: filter tokens for the FTS index, so that the public's searches count their
    matches in the index alone; on SQLite, covering indexes of the short columns, so that a
    search never reads the wide rows (see search/fts.py). Like the FTS triggers, the indexes
    are lost when SQLite rebuilds the table: a later migration of this model re-runs this."""

    dependencies = [("search", "0006_sqlite_narrow_rows")]

    operations = [
        migrations.AddField(
            model_name="searchentry",
            name="tags",
            field=models.TextField(blank=True, null=True),
        ),
        migrations.RunPython(tag_and_reindex, drop_indexes),
    ]
