"""Translations: every message has its Traditional Chinese translation, and the compiled catalog is current."""
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_every_string_has_its_traditional_chinese_translation(tmp_path):
    """Extract every message from code and templates; each must be translated, none fuzzy."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).parent / "pybabel"), "extract", "-F", "babel.cfg", "-k", "_l",
         "-o", str(pot), "app.py", "wizard", "templates"],
        cwd=ROOT, check=True, capture_output=True,
    )
    with open(pot, "rb") as f:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    with open(ROOT / "translations/zh_Hant/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    missing = sorted(wanted - translated)
    assert not missing, f"{len(missing)} strings lack a zh_Hant translation: {missing[:10]}"


def test_the_compiled_catalog_is_current():
    """The app reads messages.mo: it must be compiled from the .po that is committed."""
    po = ROOT / "translations/zh_Hant/LC_MESSAGES/messages.po"
    mo = po.with_suffix(".mo")
    assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime, "run scripts/setup to compile translations"
