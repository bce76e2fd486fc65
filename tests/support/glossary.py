"""The glossary (translations/glossary.md): its terms and its exceptions, read from the two
Markdown tables a translator edits."""
import re
from dataclasses import dataclass, field
from pathlib import Path

GLOSSARY = Path(__file__).resolve().parents[2] / "translations/glossary.md"
PLACEHOLDER = re.compile(r"%\([^)]*\)[sd]|\{\{[^}]*\}\}")


@dataclass
class Term:
    english: str
    forms: list[str]
    zh: str
    never: list[str]
    note: str
    exceptions: dict[str, str] = field(default_factory=dict)  # msgid -> reason

    def matches(self, msgid: str) -> bool:
        """Whether the msgid uses this term (a quoted form must be the whole msgid)."""
        words = PLACEHOLDER.sub(" ", msgid)
        for form in self.forms:
            if form.startswith('"') and form.endswith('"'):
                if msgid == form[1:-1]:
                    return True
            elif re.search(rf"(?<![\w-]){re.escape(form)}(?![\w-])", words, re.IGNORECASE):
                return True
        return False


def _cells(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [cell.strip().replace("\\|", "|") for cell in cells]


def _tables(text: str) -> dict[str, list[list[str]]]:
    """Each '## Heading' table's rows, header and rule left out."""
    tables, heading = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
        elif line.startswith("|") and heading:
            rows = tables.setdefault(heading, [])
            cells = _cells(line)
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
    return {name: rows[1:] for name, rows in tables.items()}


def _list(cell: str) -> list[str]:
    return [item.strip() for item in cell.split(",") if item.strip()]


def read_glossary(path: Path = GLOSSARY) -> list[Term]:
    tables = _tables(path.read_text(encoding="utf-8"))
    terms = {row[0]: Term(row[0], _list(row[1]), row[2], _list(row[3]), row[4]) for row in tables["Terms"]}
    for english, msgid, reason in tables["Exceptions"]:
        assert english in terms, f"glossary exception for unknown term {english!r}"
        assert reason, f"glossary exception without a reason: {msgid!r}"
        terms[english].exceptions[msgid.strip("`")] = reason
    return list(terms.values())


def read_latin_words(path: Path = GLOSSARY) -> list[str]:
    """Words and phrases a zh-TW page may show in Latin letters (each listed with its reason)."""
    rows = _tables(path.read_text(encoding="utf-8"))["Latin letters on zh-TW pages"]
    for words, reason in rows:
        assert reason, f"Latin words without a reason: {words}"
    return [word.strip("`") for words, _reason in rows for word in _list(words)]
