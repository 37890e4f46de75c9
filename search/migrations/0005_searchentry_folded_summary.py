from django.db import migrations, models


def derive(apps, schema_editor):
    from search.backends.embedded import _joined
    from search.text import fold

    SearchEntry = apps.get_model("search", "SearchEntry")
    for entry in SearchEntry.objects.only("pk", "summary").iterator(chunk_size=500):
        SearchEntry.objects.filter(pk=entry.pk).update(folded_summary=_joined([entry.summary], fold))


def fts_again(apps, schema_editor):
    """SQLite rebuilt the table to add the column, dropping its FTS triggers: recreate them
    and the index (any later migration of this table on SQLite must do the same)."""
    from importlib import import_module

    fts = import_module("search.migrations.0004_sqlite_fts")
    fts._run(fts.CREATE)(apps, schema_editor)


class Migration(migrations.Migration):
    """The folded summary on its own, so that the database computes the whole score."""

    dependencies = [("search", "0004_sqlite_fts")]

    operations = [
        migrations.AddField(
            model_name="searchentry",
            name="folded_summary",
            field=models.TextField(default=""),
        ),
        migrations.RunPython(derive, migrations.RunPython.noop),
        migrations.RunPython(fts_again, migrations.RunPython.noop),
    ]
