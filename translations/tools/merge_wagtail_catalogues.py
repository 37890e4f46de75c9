"""Merge Wagtail's English source catalogues into one Vietnamese catalogue per domain.

Usage (from the project root):

    .venv/bin/python translations/tools/merge_wagtail_catalogues.py

For each gettext domain (django, djangojs) this reads every
``wagtail/**/locale/en/LC_MESSAGES/<domain>.po`` of the installed Wagtail,
merges the entries into one catalogue with unique (msgctxt, msgid) keys, and
writes ``translations/wagtail/vi/LC_MESSAGES/<domain>.po``.  Existing Vietnamese
translations in that file are kept (matched exactly on msgctxt + msgid);
translations whose msgid no longer exists in Wagtail are listed on stdout and
kept as obsolete ("#~") entries until the next run.
No fuzzy matching is done: new or changed msgids get an empty msgstr, so Django
falls back to English until somebody translates them.

Needs only Babel (already a dependency of the project).
"""

import argparse
import datetime
import glob
import os
from pathlib import Path

import wagtail
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]  # translations/
OUT_DIR = ROOT / "wagtail" / "vi" / "LC_MESSAGES"
WAGTAIL_DIR = Path(wagtail.__file__).parent


# Django core strings that the Wagtail admin displays but that Django's own
# Vietnamese catalogue lacks (it still has the pre-4.x "%d minute" msgids), so
# relative times such as "20 minutes ago" would stay half English.
EXTRA_MESSAGES = {
    "django": [
        (("%(num)d year", "%(num)d years"), "django/utils/timesince.py"),
        (("%(num)d month", "%(num)d months"), "django/utils/timesince.py"),
        (("%(num)d week", "%(num)d weeks"), "django/utils/timesince.py"),
        (("%(num)d day", "%(num)d days"), "django/utils/timesince.py"),
        (("%(num)d hour", "%(num)d hours"), "django/utils/timesince.py"),
        (("%(num)d minute", "%(num)d minutes"), "django/utils/timesince.py"),
    ],
}


def key(message):
    return (message.context, message.id)


def load_sources(domain):
    """Return {key: Message} for all English Wagtail catalogues of *domain*."""
    merged = {}
    pattern = str(WAGTAIL_DIR / "**" / "locale" / "en" / "LC_MESSAGES" / f"{domain}.po")
    for path in sorted(glob.glob(pattern, recursive=True)):
        app = os.path.dirname(os.path.relpath(path, WAGTAIL_DIR))  # .../locale/en/LC_MESSAGES
        app = os.path.dirname(os.path.dirname(os.path.dirname(app)))
        prefix = "wagtail" if app == "" else f"wagtail/{app}"
        with open(path, "rb") as fh:
            catalog = read_po(fh)
        for message in catalog:
            if not message.id:
                continue
            locations = [(f"{prefix}/{fname}", line) for fname, line in message.locations]
            if key(message) in merged:
                merged[key(message)].locations.extend(locations)
                continue
            message.locations = locations
            message.string = ("",) if message.pluralizable else ""
            message.flags.discard("fuzzy")
            merged[key(message)] = message
    for msgid, location in EXTRA_MESSAGES.get(domain, []):
        message = Message(
            msgid,
            ("",) if isinstance(msgid, tuple) else "",
            locations=[(location, None)],
            flags=["python-format"],
            auto_comments=[
                "Django core string shown in the Wagtail admin "
                "(missing from Django's vi catalogue)."
            ],
        )
        merged.setdefault(key(message), message)
    return merged


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domain", action="append", help="django and/or djangojs (default: both)")
    args = parser.parse_args()
    version = wagtail.__version__
    for domain in args.domain or ["django", "djangojs"]:
        out_path = OUT_DIR / f"{domain}.po"
        existing = {}
        if out_path.exists():
            with open(out_path, "rb") as fh:
                for message in read_po(fh, locale="vi"):
                    if (
                        message.id
                        and message.string
                        and any(message.string if message.pluralizable else [message.string])
                    ):
                        existing[key(message)] = message.string
        sources = load_sources(domain)
        catalog = Catalog(
            locale="vi",
            domain=domain,
            project="Wagtail admin (Vietnamese, Nguồn project)",
            version=version,
            copyright_holder="Nguồn newsroom team",
            msgid_bugs_address="",
            last_translator="Nguồn newsroom team",
            language_team="Vietnamese",
            revision_date=datetime.datetime.now(datetime.UTC),
            fuzzy=False,
            header_comment=(
                "# Vietnamese translation of the Wagtail admin, shipped by the Nguồn project.\n"
                f"# Merged from the English catalogues of Wagtail {version} by\n"
                "# translations/tools/merge_wagtail_catalogues.py; see translations/README.md.\n"
                "#"
            ),
        )
        translated = 0
        for k, message in sources.items():
            if k in existing:
                string = existing[k]
                if message.pluralizable:
                    string = tuple(string) if not isinstance(string, str) else (string,)
                    string = string[:1]
                message.string = string
                translated += 1
            catalog[message.id] = message  # keyed on (id, message.context)
        # Translations whose msgid disappeared are kept once as obsolete ("#~")
        # entries, so a translator can reuse them for reworded msgids.
        dropped = sorted(set(existing) - set(sources), key=str)
        for ctx, mid in dropped:
            obsolete_key = mid[0] if isinstance(mid, tuple) else mid
            if ctx:
                obsolete_key = (obsolete_key, ctx)
            catalog.obsolete[obsolete_key] = Message(mid, existing[(ctx, mid)], context=ctx)
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        with open(out_path, "wb") as fh:
            write_po(fh, catalog, width=0, sort_output=False, include_previous=False)
        print(
            f"{domain}: {len(sources)} msgids, {translated} translated, "
            f"{len(dropped)} no longer used (kept as #~ obsolete entries)"
        )
        for ctx, mid in dropped:
            print("   obsolete:", (ctx + " | ") if ctx else "", mid)


if __name__ == "__main__":
    main()
