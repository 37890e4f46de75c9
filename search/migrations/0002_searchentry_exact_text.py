from django.db import migrations, models


def derive_texts(apps, schema_editor):
    """Fill the new column (and the field separators) from the text already stored."""
    from search.backends.embedded import entry_texts

    SearchEntry = apps.get_model("search", "SearchEntry")
    for entry in SearchEntry.objects.iterator(chunk_size=500):
        texts = entry_texts(entry.headline, entry.summary, entry.body)
        for name in ("folded_headline", "folded_text", "exact_text"):
            setattr(entry, name, texts[name])
        entry.save(update_fields=["folded_headline", "folded_text", "exact_text"])


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="searchentry",
            name="exact_text",
            field=models.TextField(default=""),
        ),
        migrations.RunPython(derive_texts, migrations.RunPython.noop),
    ]
