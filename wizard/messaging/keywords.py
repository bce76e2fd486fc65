"""Keyword matching and replies: an inbound message's keyword moves its sender's consent.

Matching ignores case and surrounding space; an optional fuzzy opt-out catches "stopp" and
"Stop please". Each Twilio credential has its own rules in each sandbox."""
import json
import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from wizard.core.db import database
from wizard.core.models import InboundMessage, KeywordRule, KeywordSettings
from wizard.messaging.consent import _consent_for_update, record_consent

CATEGORIES = ("opt_in", "opt_out", "double_opt_in", "help", "custom")


# The default keywords; they are also the "standard keywords" Twilio Advanced Opt-Out answers itself.
DEFAULT_KEYWORDS = {
    "opt_in": ["SUBSCRIBE", "YES", "UNSTOP", "START", "CONTINUE", "RESUME", "BEGIN"],
    "opt_out": ["STOP", "QUIT", "CANCEL", "END", "UNSUBSCRIBE", "STOPALL"],
    "help": ["HELP", "INFO"],
}


# Sent to the people who text in, so they are stored text the admin edits, not UI strings (Twilio's wording).
DEFAULT_REPLIES = {
    "opt_in": "You have successfully been re-subscribed to messages from this number. "
              "Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
    "opt_out": "You have successfully been unsubscribed. You will not receive any more messages "
               "from this number. Reply START to resubscribe.",
    "help": "Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
}


# Where a keyword of each category moves its sender.
STATE_OF = {"opt_in": "opted_in", "opt_out": "opted_out", "double_opt_in": "opted_in"}


# Shorter opt-out keywords ("END") start too many ordinary messages ("End of day?") to guess at.
FUZZY_MIN_LENGTH = 4


@dataclass(frozen=True)
class Match:
    """What a message matched and what follows from it."""

    category: str | None  # None: nothing matched, the default reply answers
    keyword: str  # the keyword as the rule has it ("" for the default reply)
    reply: str | None  # None: send nothing
    state: str | None  # the consent state the sender moves to; None: unchanged
    fuzzy: bool = False
    heard: str = ""  # what the sender wrote, when it only resembles the keyword

    def source(self, message_sid: str) -> str:
        said = f"{self.heard} ≈ {self.keyword}" if self.fuzzy else self.keyword
        return f"{said} ({message_sid})"[:255] if message_sid else said[:255]


def _is_edge(char: str) -> bool:
    """Spaces, punctuation, symbols and controls around a keyword don't count ("STOP.", "「退訂」")."""
    return unicodedata.category(char)[0] in "PSZC"


def normalize(text: str) -> str:
    """The form keywords are compared in: width-folded, trimmed of space and punctuation, case-folded."""
    text = unicodedata.normalize("NFKC", text or "")  # full-width ＳＴＯＰ from CJK keyboards is STOP
    start, end = 0, len(text)
    while start < end and _is_edge(text[start]):
        start += 1
    while end > start and _is_edge(text[end - 1]):
        end -= 1
    return text[start:end].casefold()


def _within_one_edit(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or swap of neighbours apart ("stopp", "stpo")."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        i, j = diffs if len(diffs) == 2 else (0, 0)
        return j == i + 1 and (a[i], a[j]) == (b[j], b[i])
    shorter, longer = sorted((a, b), key=len)
    i = 0
    while i < len(shorter) and shorter[i] == longer[i]:
        i += 1
    return shorter[i:] == longer[i + 1:]


def _unspaced(keyword: str) -> bool:
    """Keywords in scripts written without spaces (Chinese, Japanese) are followed by words directly."""
    return any(unicodedata.east_asian_width(char) in "WF" for char in keyword)


def _fuzzy_opt_out(text: str, opt_out_keywords: list[str]) -> tuple[str, str] | None:
    """The opt-out keyword that `text` (normalized) resembles, and the word that resembles it."""
    words = text.split()
    if not words:
        return None
    first = normalize(words[0])
    for keyword in opt_out_keywords:
        key = normalize(keyword)
        if _unspaced(key):
            if text.startswith(key) and text != key:  # "退訂謝謝"
                return keyword, text
            continue
        if len(key) < FUZZY_MIN_LENGTH:
            continue
        if first == key and len(words) > 1:  # "Stop please"
            return keyword, text
        if len(first) >= FUZZY_MIN_LENGTH - 1 and _within_one_edit(first, key):  # "stopp"
            return keyword, first
    return None


def standard_category(text: str) -> str | None:
    """The category of a standard keyword (the defaults), which Twilio Advanced Opt-Out answers itself."""
    for category, keywords in DEFAULT_KEYWORDS.items():
        if text in (normalize(k) for k in keywords):
            return category
    return None


def match(body: str, rules, settings, consent_state: str | None) -> Match | None:
    """What a message's body matches among `rules`, with `settings`, for a sender in `consent_state`.

    `rules` are KeywordRule-like (category, keyword_list, reply); `settings` KeywordSettings-like.
    None means no reply and no change.
    """
    text = normalize(body)
    double_opt_in = any(rule.category == "double_opt_in" for rule in rules)
    standard = standard_category(text) if settings.advanced_opt_out else None

    found = None
    for rule in rules:
        for keyword in rule.keyword_list:
            if text and normalize(keyword) == text:
                found = (rule, keyword)
                break
        if found:
            break

    if found:
        rule, keyword = found
        category = rule.category
        # A confirmation only means something while an opt-in waits for it.
        if category == "double_opt_in" and consent_state != "pending":
            found = None
        else:
            state = STATE_OF.get(category)
            if category == "opt_in" and double_opt_in:
                state = "pending"
            reply = None if standard else (rule.reply or None)
            return Match(category=category, keyword=keyword, reply=reply, state=state)

    if standard:
        # Twilio answered and acted on it even though no rule of ours has the keyword.
        return Match(category=standard, keyword=text.upper(), reply=None, state=STATE_OF.get(standard))

    if settings.fuzzy_opt_out:
        opt_out_keywords = [k for rule in rules if rule.category == "opt_out" for k in rule.keyword_list]
        fuzzy = _fuzzy_opt_out(text, opt_out_keywords)
        if fuzzy:
            keyword, heard = fuzzy
            return Match(category="opt_out", keyword=keyword, reply=settings.fuzzy_reply or None,
                         state="opted_out", fuzzy=True, heard=heard[:64])

    if settings.default_reply:
        return Match(category=None, keyword="", reply=settings.default_reply, state=None)
    return None


def default_rules() -> list[KeywordRule]:
    """The default keywords and replies as (unsaved) rules."""
    return [
        KeywordRule(category=category, keywords=json.dumps(keywords), reply=DEFAULT_REPLIES[category], position=i)
        for i, (category, keywords) in enumerate(DEFAULT_KEYWORDS.items())
    ]


def saved_settings(credential_id, sandbox_id) -> KeywordSettings | None:
    if credential_id is None:
        return None
    return KeywordSettings.get_or_none(KeywordSettings.credential == credential_id,
                                       KeywordSettings.sandbox == sandbox_id)


def saved_rules(credential_id, sandbox_id) -> list[KeywordRule]:
    return list(KeywordRule.select()
                .where(KeywordRule.credential == credential_id, KeywordRule.sandbox == sandbox_id)
                .order_by(KeywordRule.position, KeywordRule.id))


def rules_for(credential_id, sandbox_id) -> tuple[list[KeywordRule], KeywordSettings]:
    """The rules and settings in force: the saved ones once the page was saved, else the defaults."""
    settings = saved_settings(credential_id, sandbox_id)
    if settings is None:
        rules = saved_rules(credential_id, sandbox_id) if credential_id is not None else []
        return rules or default_rules(), KeywordSettings()
    return saved_rules(credential_id, sandbox_id), settings


def respond(message: InboundMessage) -> str | None:
    """Match an inbound message's keywords, update its sender's consent, store and return the reply.

    Runs inside the receiver's transaction; None means no reply.
    """
    with database.atomic():
        rules, settings = rules_for(message.credential_id, message.sandbox_id)
        number = (message.from_number or "").strip()
        consent = _consent_for_update(message.sandbox_id, number) if number else None
        found = match(message.body, rules, settings, consent.state if consent else None)
        if found is not None and found.state and number:
            record_consent(message.sandbox_id, number, found.state, found.source(message.message_sid), consent)
        message.keyword_category = found.category if found else None
        message.reply = found.reply if found else None
        message.save()
    return message.reply


CATEGORY_LABELS = {
    "opt_in": _l("Opt-In"),
    "opt_out": _l("Opt-Out"),
    "double_opt_in": _l("Double Opt-In"),
    "help": _l("Help"),
    "custom": _l("Custom"),
}


CATEGORY_HELP = {
    "opt_in": _l("The sender is opted in again. While there is a Double Opt-In rule, the number is only pending "
                 "until it confirms, so this reply should ask for the confirmation keyword."),
    "opt_out": _l("The sender is recorded as opted out at once."),
    "double_opt_in": _l("Confirms a pending opt-in: the number is then opted in. From a number that is not "
                        "pending, these keywords get the default reply."),
    "help": _l("Answers with the reply; consent does not change."),
    "custom": _l("Answers with the reply; consent does not change."),
}
