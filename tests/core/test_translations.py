"""Every shipped catalogue compiles without a warning: one plural form, declared."""

import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from cms.management.commands.compile_translations import read_catalogue

CATALOGUES = sorted(
    p
    for p in Path(settings.BASE_DIR).glob("**/LC_MESSAGES/*.po")
    if ".venv" not in p.parts and "node_modules" not in p.parts
)


def test_there_are_catalogues_for_every_app():
    apps = {p.relative_to(settings.BASE_DIR).parts[0] for p in CATALOGUES}
    assert {"newsroom", "broadcast", "syndication", "media", "cms", "reports"} <= apps


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_every_catalogue_declares_one_plural_form_and_reads_cleanly(po_path):
    catalog = read_catalogue(po_path)
    assert catalog.num_plurals == 1
    assert catalog.plural_expr == "0"


def _broken_copy(tmp_path: Path, source: str, replace: tuple[str, str]) -> Path:
    folder = tmp_path / "vi" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    target = folder / "django.po"
    shutil.copy(Path(settings.BASE_DIR) / source, target)
    target.write_text(target.read_text(encoding="utf-8").replace(*replace), encoding="utf-8")
    return target


def test_compiling_refuses_a_catalogue_without_plural_forms(tmp_path, settings):
    _broken_copy(
        tmp_path,
        "syndication/locale/vi/LC_MESSAGES/django.po",
        ('"Plural-Forms: nplurals=1; plural=0;\\n"\n', ""),
    )
    settings.LOCALE_PATHS = [tmp_path]
    with pytest.raises(CommandError, match="Plural-Forms"):
        call_command("compile_translations")


def test_compiling_refuses_a_second_plural_form(tmp_path, settings):
    _broken_copy(
        tmp_path,
        "syndication/locale/vi/LC_MESSAGES/django.po",
        (
            'msgstr[0] "%(counter)s lượt giao tin"\n',
            'msgstr[0] "%(counter)s lượt giao tin"\nmsgstr[1] ""\n',
        ),
    )
    settings.LOCALE_PATHS = [tmp_path]
    with pytest.raises(CommandError, match="num_plurals"):
        call_command("compile_translations")
    assert not (tmp_path / "vi" / "LC_MESSAGES" / "django.mo").exists()
