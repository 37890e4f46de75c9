"""The portal's pages move from the ``cms`` app to ``portal`` without touching a row.

The tables keep their names (``cms_homepage``, ``cms_homepagefeatureditem``): this migration
only declares the models in ``portal``'s state; ``cms.0005_portal_pages_moved`` then removes
them from ``cms``'s state and renames their content types, so every page, revision and log
entry keeps pointing at the same content type row.
"""

import django.db.models.deletion
import modelcluster.fields
import wagtail.contrib.routable_page.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("cms", "0003_homepagefeatureditem"),
        ("newsroom", "0003_item_channel_fields"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="HomePage",
                    fields=[
                        (
                            "page_ptr",
                            models.OneToOneField(
                                auto_created=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                parent_link=True,
                                primary_key=True,
                                serialize=False,
                                to=settings.WAGTAIL_PAGE_MODEL,
                            ),
                        ),
                    ],
                    options={"verbose_name": "portal home page", "db_table": "cms_homepage"},
                    bases=(wagtail.contrib.routable_page.models.RoutablePageMixin, "wagtailcore.page"),
                ),
                migrations.CreateModel(
                    name="HomePageFeaturedItem",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("sort_order", models.IntegerField(blank=True, editable=False, null=True)),
                        (
                            "item",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="portal_featured",
                                to="newsroom.newsitem",
                                verbose_name="item",
                            ),
                        ),
                        (
                            "page",
                            modelcluster.fields.ParentalKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="featured_items",
                                to="portal.homepage",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "featured item",
                        "verbose_name_plural": "featured items",
                        "ordering": ["sort_order"],
                        "abstract": False,
                        "db_table": "cms_homepagefeatureditem",
                        "constraints": [
                            models.UniqueConstraint(fields=("page", "item"), name="unique_featured_item")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
