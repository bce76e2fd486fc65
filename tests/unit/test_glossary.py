"""The catalogue speaks the glossary (translations/glossary.md): one zh-TW term per concept,
the source help page's own words where it has them."""
import pytest
from babel.messages.pofile import read_po

from tests.support.glossary import GLOSSARY, read_glossary

CATALOGUE = GLOSSARY.parent / "zh_Hant/LC_MESSAGES/messages.po"


def messages() -> list[tuple[str, str]]:
    """(msgid, msgstr) of every message; each plural form counts as a msgstr of its own."""
    with open(CATALOGUE, "rb") as f:
        catalog = read_po(f)
    pairs = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        pairs += [(msgid, string) for msgid in ids for string in strings]
    return pairs


TERMS = read_glossary()


def test_the_glossary_covers_the_concepts_of_the_source_page():
    covered = {term.english for term in TERMS}
    wanted = {"credential", "vendor", "provider", "Account SID", "Auth Token", "Messaging Service SID",
              "incoming number", "sandbox", "channel configuration", "webhook", "inbound", "feedback",
              "payload", "endpoint", "header", "authentication method", "delivery status", "submit", "edit",
              "delete", "copy", "duplicate", "history", "journey"}
    assert wanted <= covered, sorted(wanted - covered)
    renderings = [term.zh for term in TERMS]
    assert len(renderings) == len(set(renderings)), "two concepts share one zh-TW term"


@pytest.mark.parametrize("term", TERMS, ids=[term.english for term in TERMS])
def test_every_message_with_the_term_uses_its_zh_tw_rendering(term):
    pairs = messages()
    wrong = [f"{msgid!r} => {msgstr!r}" for msgid, msgstr in pairs
             if term.matches(msgid) and msgid not in term.exceptions and term.zh not in msgstr]
    assert not wrong, f"{len(wrong)} messages with {term.english!r} do not say {term.zh}:\n" + "\n".join(wrong)
    stale = sorted(set(term.exceptions) - {msgid for msgid, _msgstr in pairs})
    assert not stale, f"exceptions for {term.english!r} that match no msgid: {stale}"


@pytest.mark.parametrize("term", [term for term in TERMS if term.never], ids=lambda term: term.english)
def test_no_message_uses_a_rendering_the_glossary_rules_out(term):
    wrong = [f"{msgid!r} => {msgstr!r}" for msgid, msgstr in messages()
             if any(word in msgstr for word in term.never)]
    assert not wrong, f"{len(wrong)} messages say {term.never} for {term.english!r}:\n" + "\n".join(wrong)
