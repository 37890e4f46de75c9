from django.db import migrations


def create_homepage(apps, schema_editor, app_label="cms"):
    """Also called by the test suite with ``app_label="portal"`` (where the model lives now)."""
    ContentType = apps.get_model("contenttypes.ContentType")
    Page = apps.get_model("wagtailcore.Page")
    Site = apps.get_model("wagtailcore.Site")
    HomePage = apps.get_model(app_label, "HomePage")

    if HomePage.objects.exists():
        return
    page_ct = ContentType.objects.get(model="page", app_label="wagtailcore")
    Page.objects.filter(content_type=page_ct, slug="home", depth=2).delete()
    home_ct, _ = ContentType.objects.get_or_create(model="homepage", app_label=app_label)
    Locale = apps.get_model("wagtailcore.Locale")
    locale = Locale.objects.filter(language_code="vi").first() or Locale.objects.first()
    if locale is None:
        locale = Locale.objects.create(language_code="vi")
    root = Page.objects.get(depth=1)
    homepage = HomePage.objects.create(
        title="Cổng thông tin nguồn",
        draft_title="Cổng thông tin nguồn",
        slug="home",
        content_type=home_ct,
        path=f"{root.path}0001",
        depth=2,
        numchild=0,
        url_path="/home/",
        live=True,
        locale=locale,
    )
    Page.objects.filter(pk=root.pk).update(numchild=1)
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "port": 80, "root_page": homepage,
                  "site_name": "Nguồn"},
    )


def remove_homepage(apps, schema_editor):
    apps.get_model("cms.HomePage").objects.filter(slug="home", depth=2).delete()


class Migration(migrations.Migration):
    dependencies = [("cms", "0001_initial"), ("wagtailcore", "0094_alter_page_locale")]

    operations = [migrations.RunPython(create_homepage, remove_homepage)]
