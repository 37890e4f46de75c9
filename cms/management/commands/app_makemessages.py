"""Extract one project app's messages into its own ``<app>/locale/vi`` catalogue.

Django's ``makemessages`` writes every string into the first of ``LOCALE_PATHS`` when run
from the project root; each app keeping its own catalogue lets several people translate
in parallel without touching one shared file. Then run ``compile_translations``.
"""

import os
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings


class Command(BaseCommand):
    help = "makemessages for one app into <app>/locale (Vietnamese by default)."

    def add_arguments(self, parser):
        parser.add_argument("app")
        parser.add_argument("-l", "--locale", default="vi")

    def handle(self, app, locale, **options):
        app_dir = Path(settings.BASE_DIR) / app
        if not (app_dir / "apps.py").exists() and app != "templates":
            raise CommandError(f"{app} is not a project app folder")
        (app_dir / "locale").mkdir(exist_ok=True)
        cwd = os.getcwd()
        os.chdir(app_dir)
        try:
            with override_settings(LOCALE_PATHS=[]):
                call_command(
                    "makemessages",
                    locale=[locale],
                    no_obsolete=True,
                    ignore_patterns=["locale/*", "migrations/*"],
                    verbosity=options["verbosity"],
                )
        finally:
            os.chdir(cwd)
