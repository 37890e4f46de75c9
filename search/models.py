"""The embedded backend's index: one row per item, holding folded and original text."""

from django.db import models


class SearchEntry(models.Model):
    item_id = models.BigIntegerField(unique=True)
    uuid = models.UUIDField()
    public = models.BooleanField(default=False)
    unit_path = models.CharField(max_length=255, db_index=True)
    kind = models.CharField(max_length=16)
    category_id = models.BigIntegerField(null=True)
    published_at = models.DateTimeField(null=True, db_index=True)
    headline = models.TextField()
    summary = models.TextField(blank=True)
    body = models.TextField(blank=True)
    # Derived by ``search.backends.embedded.entry_texts``: words separated by spaces, with
    # " | " between headline, summary and body.
    folded_headline = models.TextField()
    folded_text = models.TextField()
    exact_text = models.TextField(default="")
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "search entry"

    def __str__(self) -> str:
        return f"{self.item_id}: {self.headline}"
