"""Merge new zh_Hant translations into the catalog: `python scripts/translate.py FILE.py`.

FILE.py defines ZH = {msgid: msgstr} (a tuple of plural forms for plural messages).
The script extracts every message from the code, updates the .po (keeping old
translations), fills in the given ones (a given translation replaces the one the catalog
had) and lists any that are still missing.

Use the terms of translations/glossary.md: one zh-TW term per concept, the source help
page's own words. tests/unit/test_glossary.py holds the catalog to it.
"""
import runpy
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "translations/zh_Hant/LC_MESSAGES/messages.po"
SOURCES = ["app.py", "wizard", "templates"]


def main(source: str):
    given = runpy.run_path(source)["ZH"]
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        subprocess.run(["pybabel", "-q", "extract", "-F", "babel.cfg", "-k", "_l", "--no-location",
                        "--omit-header", "-o", str(pot), *SOURCES], cwd=ROOT, check=True)
        if not PO.exists():
            subprocess.run(["pybabel", "-q", "init", "-i", str(pot), "-d", "translations", "-l", "zh_Hant"],
                           cwd=ROOT, check=True)
        subprocess.run(["pybabel", "-q", "update", "--no-fuzzy-matching", "--ignore-obsolete", "-i", str(pot),
                        "-d", "translations", "-l", "zh_Hant"], cwd=ROOT, check=True)
    with open(PO, "rb") as f:
        catalog = read_po(f, locale="zh_Hant")
    catalog.project, catalog.version = "Twilio messaging setup", "1"
    catalog.header_comment = ("# Traditional Chinese (zh_Hant) messages of the Twilio messaging setup.\n"
                              "# Update with: python scripts/translate.py NEW_TRANSLATIONS.py")
    catalog.msgid_bugs_address = catalog.last_translator = catalog.language_team = ""
    missing = []
    for message in catalog:
        if not message.id:
            continue
        if message.id in given:
            message.string = given[message.id]
            message.flags.discard("fuzzy")
        elif not (message.string if isinstance(message.string, str) else all(message.string)):
            missing.append(message.id)
    with open(PO, "wb") as f:
        write_po(f, catalog, width=0, omit_header=False, no_location=True)
    for message_id in missing:
        print("missing:", message_id)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
