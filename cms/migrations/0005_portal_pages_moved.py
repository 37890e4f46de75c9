"""The portal's page models now belong to the ``portal`` app (``portal.0001_initial``).

State only for the tables (they keep their names); the content types are renamed in place
so pages, revisions, log entries and permissions keep their content type row.
"""

from django.db import migrations

MOVED = ("homepage", "homepagefeatureditem")


def content_types_to_portal(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Page = apps.get_model("wagtailcore.Page")
    Revision = apps.get_model("wagtailcore.Revision")
    for model in MOVED:
        old = ContentType.objects.filter(app_label="cms", model=model).first()
        if old is None:
            continue
        new = ContentType.objects.filter(app_label="portal", model=model).first()
        if new is None:
            old.app_label = "portal"
            old.save(update_fields=["app_label"])
            continue
        # Both exist (a content type was created for portal before this ran): point every
        # page and revision at portal's, then drop the old one.
        Page.objects.filter(content_type=old).update(content_type=new)
        Revision.objects.filter(content_type=old).update(content_type=new)
        Revision.objects.filter(base_content_type=old).update(base_content_type=new)
        old.delete()


def content_types_to_cms(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    ContentType.objects.filter(app_label="portal", model__in=MOVED).update(app_label="cms")


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0004_vietnamese_default_groups"),
        ("portal", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="HomePageFeaturedItem"),
                migrations.DeleteModel(name="HomePage"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_to_portal, content_types_to_cms),
    ]
