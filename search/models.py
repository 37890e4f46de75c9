"""The embedded backend's index: one row per item, holding folded and original text.

On SQLite, the FTS5 table ``search_fts`` (``search/fts.py``; migrations 0004, 0006, 0007)
indexes the folded, exact and tag columns (external content, kept in step by triggers), and
two covering indexes (0007) hold the short columns. SQLite rebuilds a table for most schema
changes, which drops those triggers and indexes: a migration that alters this model must
recreate them (see migrations 0006 and 0007).
"""

from django.db import models

PUBLIC_TAG = "|public"  # "|" is never part of a query word: it cannot be searched for


class SearchEntry(models.Model):
    item_id = models.BigIntegerField(unique=True)
    uuid = models.UUIDField()
    public = models.BooleanField(default=False)
    unit_path = models.CharField(max_length=255, db_index=True)
    kind = models.CharField(max_length=16)
    category_id = models.BigIntegerField(null=True)
    published_at = models.DateTimeField(null=True, db_index=True)
    status = models.CharField(max_length=16, default="published")
    category = models.CharField(max_length=255, null=True)
    unit_province = models.CharField(max_length=16, null=True)
    unit_district = models.CharField(max_length=16, null=True)
    unit_commune = models.CharField(max_length=16, null=True)
    date = models.DateTimeField(null=True, db_index=True)
    month = models.CharField(max_length=7, null=True)
    headline = models.TextField()
    summary = models.TextField(blank=True)
    body = models.TextField(blank=True)
    # Derived by ``search.backends.embedded.entry_texts``: words separated by spaces, with
    # " | " between headline, summary and body.
    folded_headline = models.TextField()
    folded_summary = models.TextField(default="")
    folded_text = models.TextField()
    exact_text = models.TextField(default="")
    # Tokens only the FTS index reads, to filter without the row: ``PUBLIC_TAG`` if public.
    tags = models.TextField(null=True, blank=True)
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "search entry"
        # On SQLite, migration 0007 adds covering indexes of the short columns (search/fts.py).

    def __str__(self) -> str:
        return f"{self.item_id}: {self.headline}"


class SearchWord(models.Model):
    """A word of the public entries' headlines and summaries, as written in lower case
    (diacritics kept), its folded form, and how many public entries hold it: the vocabulary
    the embedded backend corrects a query from ("Có phải bạn muốn tìm …",
    ``search.vocabulary``). Only public entries count, so a correction never reveals a word
    of a draft. On PostgreSQL with ``pg_trgm``, ``folded`` has a trigram GiST index
    (migration 0008)."""

    word = models.CharField(max_length=64, unique=True)
    folded = models.CharField(max_length=64, db_index=True)
    entries = models.IntegerField(default=0)

    class Meta:
        verbose_name = "search word"

    def __str__(self) -> str:
        return f"{self.word} ({self.entries})"
