import logging

from django.db import DatabaseError, migrations, models, transaction

logger = logging.getLogger(__name__)


def trigram_index(apps, schema_editor):
    """PostgreSQL: ``pg_trgm`` and a trigram GiST index on the vocabulary's folded words.
    Without the right to create the extension, the migration goes on (logged) and the
    corrections compare words in Python instead (search.vocabulary)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(), schema_editor.connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            cursor.execute(
                "CREATE INDEX search_word_folded_trgm ON search_searchword "
                "USING gist (folded gist_trgm_ops)"
            )
    except DatabaseError as exc:
        logger.warning("pg_trgm unavailable, corrections will compare words in Python: %s", exc)


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS search_word_folded_trgm")


def fill(apps, schema_editor):
    """The vocabulary of the entries already indexed (public ones only)."""
    from collections import Counter

    from search.text import fold
    from search.vocabulary import entry_words

    SearchEntry = apps.get_model("search", "SearchEntry")
    SearchWord = apps.get_model("search", "SearchWord")
    counts: Counter = Counter()
    rows = SearchEntry.objects.filter(public=True).values_list("headline", "summary")
    for headline, summary in rows.iterator(chunk_size=2000):
        counts.update(entry_words(headline, summary))
    SearchWord.objects.bulk_create(
        (SearchWord(word=w, folded=fold(w), entries=n) for w, n in counts.items()),
        batch_size=1000,
    )


class Migration(migrations.Migration):
    """The vocabulary of public headlines and summaries for "Có phải bạn muốn tìm …". A new
    table: SQLite does not rebuild ``search_searchentry``, so its FTS triggers and covering
    indexes stay."""

    dependencies = [("search", "0007_searchentry_tags_narrow_indexes")]

    operations = [
        migrations.CreateModel(
            name="SearchWord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("word", models.CharField(max_length=64, unique=True)),
                ("folded", models.CharField(db_index=True, max_length=64)),
                ("entries", models.IntegerField(default=0)),
            ],
            options={"verbose_name": "search word"},
        ),
        migrations.RunPython(trigram_index, drop_trigram_index),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
