"""Wagtail's initial data names two groups, the default page workflow, the root page and
the root collection in English ("Moderators", "Editors", "Moderators approval", "Root");
people read these names in the admin. Rename them in Vietnamese (only rows that still
carry Wagtail's default names)."""

from django.db import migrations

RENAMES = {
    "group": {"Moderators": "Kiểm duyệt viên trang", "Editors": "Biên tập viên trang"},
    "workflow": {"Moderators approval": "Duyệt trang (kiểm duyệt viên)"},
    "task": {"Moderators approval": "Kiểm duyệt viên trang duyệt"},
    "page": {"Root": "Gốc"},
    "collection": {"Root": "Gốc"},
}


def rename(apps, schema_editor, reverse=False):
    models = {
        "group": apps.get_model("auth", "Group"),
        "workflow": apps.get_model("wagtailcore", "Workflow"),
        "task": apps.get_model("wagtailcore", "Task"),
        "page": apps.get_model("wagtailcore", "Page"),
        "collection": apps.get_model("wagtailcore", "Collection"),
    }
    for key, names in RENAMES.items():
        for old, new in names.items():
            if reverse:
                old, new = new, old
            field = "title" if key == "page" else "name"
            rows = models[key].objects.filter(**{field: old})
            if key in ("page", "collection"):
                rows = rows.filter(depth=1)
            if key == "page":  # the admin shows the draft title
                rows.update(title=new, draft_title=new)
            else:
                rows.update(**{field: new})


def unrename(apps, schema_editor):
    rename(apps, schema_editor, reverse=True)


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0003_homepagefeatureditem"),
        ("wagtailcore", "0098_apitoken"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(rename, unrename)]
