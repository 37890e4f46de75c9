from django.db import migrations, models


class Migration(migrations.Migration):
    """Filter and facet columns. Rows indexed before this lack them: run
    ``manage.py search_rebuild`` after deploying."""

    dependencies = [("search", "0002_searchentry_exact_text")]

    operations = [
        migrations.AddField(
            model_name="searchentry",
            name="status",
            field=models.CharField(default="published", max_length=16),
        ),
        migrations.AddField(
            model_name="searchentry",
            name="category",
            field=models.CharField(max_length=255, null=True),
        ),
        migrations.AddField(
            model_name="searchentry",
            name="unit_province",
            field=models.CharField(max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="searchentry",
            name="unit_district",
            field=models.CharField(max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="searchentry",
            name="unit_commune",
            field=models.CharField(max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="searchentry",
            name="date",
            field=models.DateTimeField(db_index=True, null=True),
        ),
        migrations.AddField(
            model_name="searchentry",
            name="month",
            field=models.CharField(max_length=7, null=True),
        ),
    ]
