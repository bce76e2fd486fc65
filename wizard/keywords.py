"""Keyword rules and the replies they get; an inbound message's keyword moves its sender's consent.

Each Twilio credential has its own rules in each sandbox. Until its page is first saved the
DESIGN defaults are in force; the first save (of the settings or of any rule) stores them as
real rules the admin then edits.
"""
import json
import re
import unicodedata
from dataclasses import dataclass

import peewee
from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from wizard import audit
from wizard.db import database
from wizard.models import (ApiCredential, Consent, ConsentEvent, CredentialNumber, InboundMessage, KeywordRule,
                           KeywordSettings, utcnow)
from wizard.sandboxes import current_sandbox
from wizard.web import is_htmx, redirect_to, render

bp = Blueprint("keywords", __name__, url_prefix="/keywords")

CATEGORIES = ("opt_in", "opt_out", "double_opt_in", "help", "custom")

# DESIGN.md's defaults; they are also the "standard keywords" Twilio Advanced Opt-Out answers itself.
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
    """The DESIGN defaults as (unsaved) rules."""
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


def _consent_for_update(sandbox_id, phone_number) -> Consent | None:
    query = Consent.select().where(Consent.sandbox == sandbox_id, Consent.phone_number == phone_number)
    if database.for_update:  # PostgreSQL: two messages from one number queue up; SQLite writes one at a time
        query = query.for_update()
    return query.first()


def record_consent(sandbox_id, phone_number: str, state: str, source: str, consent: Consent | None = None) -> Consent:
    """Move a number to `state` now and add the step to its history."""
    now = utcnow()
    if consent is None:
        try:
            with database.atomic():  # a savepoint: a concurrent first message leaves the transaction usable
                consent = Consent.create(sandbox=sandbox_id, phone_number=phone_number, state=state, since=now)
        except peewee.IntegrityError:
            consent = _consent_for_update(sandbox_id, phone_number)
    if consent.state != state:
        consent.state, consent.since = state, now
        consent.save()
    ConsentEvent.create(consent=consent, state=state, at=now, source=source)
    return consent


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


# --- Editing the rules ----------------------------------------------------------------------

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
MAX_KEYWORD = 32
MAX_REPLY = 1600  # Twilio's limit for one message body
MAX_KEYWORDS_TEXT = 2000
# Commas and spaces separate keywords, the full-width and ideographic commas too (typed with CJK input).
KEYWORD_SEPARATORS = re.compile(r"[\s,，、;；]+")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
REPLY_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # line breaks and tabs are fine


def parse_keywords(text: str) -> list[str]:
    """Keywords as stored: upper-cased, each once, in the order typed."""
    found = {}
    for word in KEYWORD_SEPARATORS.split(text or ""):
        if word:
            found.setdefault(normalize(word), word.upper())
    return list(found.values())


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _reply_length_and_characters(form, field):
    value = field.data or ""
    if len(value) > MAX_REPLY:
        raise ValidationError(_l("A reply has at most 1600 characters (this one has %(count)s).", count=len(value)))
    if REPLY_CONTROL_CHARACTERS.search(value):
        raise ValidationError(_l("A reply cannot contain control characters other than line breaks."))


class KeywordRuleForm(FlaskForm):
    category = SelectField(_l("Category"), choices=[SelectChoice(k, v) for k, v in CATEGORY_LABELS.items()],
                           validate_choice=False)
    keywords = StringField(_l("Keywords"), filters=[_strip])
    reply = TextAreaField(_l("Reply"), filters=[_strip], validators=[_reply_length_and_characters])

    def __init__(self, *args, others=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.others = others  # the pair's other rules: a keyword belongs to one rule only
        self.parsed = []

    def validate_category(self, field):
        if field.data not in CATEGORY_LABELS:
            raise ValidationError(_l("Choose a category."))

    def validate_keywords(self, field):
        text = field.data or ""
        if len(text) > MAX_KEYWORDS_TEXT:
            raise ValidationError(_l("Keep the keywords under 2000 characters in all."))
        keywords = parse_keywords(text)  # tabs and line breaks only separate keywords
        if any(CONTROL_CHARACTERS.search(keyword) for keyword in keywords):
            raise ValidationError(_l("A keyword cannot contain control characters."))
        if not keywords:
            raise ValidationError(_l("Enter at least one keyword."))
        for keyword in keywords:
            # Messages that carry what the admin typed use gettext: a lazy string would go out unescaped.
            if len(keyword) > MAX_KEYWORD:
                raise ValidationError(_("Keyword “%(keyword)s” is longer than 32 characters.", keyword=keyword))
            if not normalize(keyword):
                raise ValidationError(_("Keyword “%(keyword)s” has no letters or digits; punctuation around a "
                                        "keyword is ignored when matching.", keyword=keyword))
        for keyword in keywords:
            for other in self.others:
                if normalize(keyword) in (normalize(k) for k in other.keyword_list):
                    raise ValidationError(_("Keyword “%(keyword)s” is already in the %(category)s rule "
                                            "(%(keywords)s). A keyword can be in one rule only.",
                                            keyword=keyword, category=CATEGORY_LABELS[other.category],
                                            keywords=", ".join(other.keyword_list)))
        self.parsed = keywords

    def validate_reply(self, field):
        if not field.data and self.category.data == "custom":
            raise ValidationError(_l("A Custom rule needs a reply: answering is all it does."))


class KeywordSettingsForm(FlaskForm):
    default_reply = TextAreaField(_l("Default reply"), filters=[_strip], validators=[_reply_length_and_characters])
    fuzzy_opt_out = BooleanField(_l("Fuzzy opt-out"))
    fuzzy_reply = TextAreaField(_l("Reply to a fuzzy opt-out"), filters=[_strip],
                                validators=[_reply_length_and_characters])
    advanced_opt_out = BooleanField(_l("Twilio Advanced Opt-Out handles standard keywords"))


SETTINGS_FIELDS = ("default_reply", "fuzzy_opt_out", "fuzzy_reply", "advanced_opt_out")


def _audited(obj, label: str):
    """What audit.record reads of an object (its class name, id and str()) with a readable label:
    keyword rows have no name of their own, and their str() would be just the id."""
    return type(type(obj).__name__, (), {"id": obj.id, "__str__": lambda self: label})()


def _pair_label(credential: ApiCredential, sandbox) -> str:
    return f"{credential.name} · {sandbox.name}"


def _rule_snapshot(rule: KeywordRule) -> dict:
    return {"category": rule.category, "keywords": ", ".join(rule.keyword_list), "reply": rule.reply}


def _audit_rule(action: str, rule: KeywordRule, credential, sandbox, changes: dict):
    label = f"{_pair_label(credential, sandbox)} · {', '.join(rule.keyword_list)}"
    audit.record(action, _audited(rule, label), changes)


def ref_of(rule: KeywordRule) -> str:
    """How URLs name a rule: its id, or for a default not yet saved, its category."""
    return str(rule.id) if rule.id else f"default-{rule.category}"


def _credential_here(sandbox, credential_id=None):
    """The Twilio credential named by ?credential=, with its number in this sandbox; 404 otherwise."""
    if credential_id is None:
        credential_id = request.args.get("credential", type=int)
    number = (CredentialNumber.select(CredentialNumber, ApiCredential).join(ApiCredential)
              .where(CredentialNumber.sandbox == sandbox.id, ApiCredential.vendor == "twilio",
                     ApiCredential.id == credential_id)
              .first())
    if number is None:
        abort(404)
    return number.credential, number


def _numbers_here(sandbox) -> list[CredentialNumber]:
    return list(CredentialNumber.select(CredentialNumber, ApiCredential).join(ApiCredential)
                .where(CredentialNumber.sandbox == sandbox.id, ApiCredential.vendor == "twilio")
                .order_by(ApiCredential.name_key))


def _store_defaults(credential, sandbox) -> tuple[KeywordSettings, dict[str, KeywordRule]]:
    """The first save: the settings row and the defaults as real rules, audited; in the caller's transaction.

    Returns the settings and the rules just stored by their default ref (none when already saved).
    """
    settings = saved_settings(credential.id, sandbox.id)
    if settings is not None:
        return settings, {}
    keep_rules = bool(saved_rules(credential.id, sandbox.id))  # rules stored before any settings stay as they are
    try:
        with database.atomic():  # a savepoint: another admin's first save may win the race
            settings = KeywordSettings.create(credential=credential, sandbox=sandbox)
    except peewee.IntegrityError:
        return saved_settings(credential.id, sandbox.id), {}
    audit.record("create", _audited(settings, _pair_label(credential, sandbox)),
                 {name: [None, getattr(settings, name)] for name in SETTINGS_FIELDS})
    stored = {}
    for rule in [] if keep_rules else default_rules():
        ref = ref_of(rule)
        rule.credential, rule.sandbox = credential, sandbox
        rule.save()
        _audit_rule("create", rule, credential, sandbox, audit.diff({}, _rule_snapshot(rule)))
        stored[ref] = rule
    return settings, stored


def _context(credential, number, sandbox, **extra) -> dict:
    rules, settings = rules_for(credential.id, sandbox.id)
    by_category = {category: [r for r in rules if r.category == category] for category in CATEGORIES}
    context = {
        "sandbox": sandbox, "credential": credential, "number": number, "numbers": _numbers_here(sandbox),
        "saved": settings.id is not None, "rules_by_category": by_category, "ref_of": ref_of,
        "category_labels": CATEGORY_LABELS, "category_help": CATEGORY_HELP,
        "has_opt_out": bool(by_category["opt_out"]),
        "editing": None, "edit_form": None,
    }
    if "form" not in extra:
        extra["form"] = KeywordRuleForm(formdata=None, prefix="new-", data={"category": "custom"})
    if "settings_form" not in extra:
        extra["settings_form"] = KeywordSettingsForm(
            formdata=None, obj=settings, prefix="settings-")
    context.update(extra)
    return context


def _page_url(credential) -> str:
    return url_for("keywords.index", credential=credential.id)


@bp.route("", methods=["GET", "POST"])
def index():
    """A credential's keyword page in this sandbox; POST saves its settings (and, the first time, the defaults)."""
    sandbox = current_sandbox()
    credential_id = request.args.get("credential", type=int)
    if request.method == "GET" and credential_id is None:
        numbers = _numbers_here(sandbox)
        if len(numbers) != 1:
            return render("keywords/index.html", sandbox=sandbox, numbers=numbers, credential=None)
        credential_id = numbers[0].credential_id  # the only one: nothing to choose
    credential, number = _credential_here(sandbox, credential_id)
    if request.method == "GET":
        return render("keywords/index.html", **_context(credential, number, sandbox))

    form = KeywordSettingsForm(prefix="settings-")
    if not form.validate():
        return render("keywords/index.html", "keywords/_settings.html", status=422,
                      **_context(credential, number, sandbox, settings_form=form))
    with database.atomic():
        settings, stored = _store_defaults(credential, sandbox)
        before = {name: getattr(settings, name) for name in SETTINGS_FIELDS}
        after = {"default_reply": form.default_reply.data or "", "fuzzy_opt_out": bool(form.fuzzy_opt_out.data),
                 "fuzzy_reply": form.fuzzy_reply.data or "", "advanced_opt_out": bool(form.advanced_opt_out.data)}
        changes = audit.diff(before, after)
        if changes:
            for name, value in after.items():
                setattr(settings, name, value)
            settings.save()
            audit.record("update", _audited(settings, _pair_label(credential, sandbox)), changes)
    flash(_("Keyword settings saved."), "success")
    if not is_htmx():
        return redirect_to(_page_url(credential))
    # The first save turned the defaults into real rules: their rows are stale.
    also = ("keywords/_rules.html",) if stored else ()
    return render("keywords/index.html", "keywords/_settings.html", also=also,
                  **_context(credential, number, sandbox))


def _rules_answer(credential, number, sandbox, status=200, **extra):
    """After a change to the rules: for htmx the rules section, else back to the page."""
    if status == 200 and not is_htmx():
        return redirect_to(_page_url(credential))
    return render("keywords/index.html", "keywords/_rules.html", status=status,
                  **_context(credential, number, sandbox, **extra))


@bp.route("/rules", methods=["POST"])
def add_rule():
    sandbox = current_sandbox()
    credential, number = _credential_here(sandbox)
    rules, _settings = rules_for(credential.id, sandbox.id)
    form = KeywordRuleForm(prefix="new-", others=rules)
    if not form.validate():
        return _rules_answer(credential, number, sandbox, status=422, form=form)
    with database.atomic():
        _store_defaults(credential, sandbox)
        last = (KeywordRule.select(peewee.fn.MAX(KeywordRule.position))
                .where(KeywordRule.credential == credential.id, KeywordRule.sandbox == sandbox.id).scalar())
        rule = KeywordRule.create(credential=credential, sandbox=sandbox, category=form.category.data,
                                  keywords=json.dumps(form.parsed, ensure_ascii=False), reply=form.reply.data or "",
                                  position=(last or 0) + 1)
        _audit_rule("create", rule, credential, sandbox, audit.diff({}, _rule_snapshot(rule)))
    flash(_("%(category)s rule added: %(keywords)s.", category=CATEGORY_LABELS[rule.category],
            keywords=", ".join(rule.keyword_list)), "success")
    return _rules_answer(credential, number, sandbox)


def _rule(ref: str):
    """The credential, its number, the sandbox and the rule that `ref` names (a saved id or a default)."""
    sandbox = current_sandbox()
    credential, number = _credential_here(sandbox)
    rules, _settings = rules_for(credential.id, sandbox.id)
    rule = next((r for r in rules if ref_of(r) == ref), None)
    if rule is None:
        abort(404)
    return credential, number, sandbox, rule, [r for r in rules if ref_of(r) != ref]


def _edit_form(rule, others=(), formdata=True) -> KeywordRuleForm:
    data = {"category": rule.category, "keywords": ", ".join(rule.keyword_list), "reply": rule.reply}
    prefix = f"rule-{ref_of(rule)}-"
    if formdata:
        return KeywordRuleForm(prefix=prefix, others=others)
    return KeywordRuleForm(formdata=None, prefix=prefix, data=data)


@bp.route("/rules/<ref>", methods=["GET", "POST"])
def rule(ref):
    """A rule's page, where it is edited without JavaScript; for htmx, its row; POST saves it."""
    credential, number, sandbox, found, others = _rule(ref)
    if request.method == "GET":
        return render("keywords/rule.html", "keywords/_rule.html", rule=found,
                      **_context(credential, number, sandbox, edit_form=_edit_form(found, formdata=False)))
    form = _edit_form(found, others)
    if not form.validate():
        if is_htmx():
            return _rules_answer(credential, number, sandbox, status=422, editing=ref, edit_form=form)
        return render("keywords/rule.html", status=422, rule=found, **_context(credential, number, sandbox,
                                                                             edit_form=form))
    with database.atomic():
        _settings, stored = _store_defaults(credential, sandbox)
        found = stored.get(ref, found)
        before = _rule_snapshot(found)
        found.category, found.reply = form.category.data, form.reply.data or ""
        found.keywords = json.dumps(form.parsed, ensure_ascii=False)
        changes = audit.diff(before, _rule_snapshot(found))
        if changes:
            found.save()
            _audit_rule("update", found, credential, sandbox, changes)
    flash(_("%(category)s rule saved: %(keywords)s.", category=CATEGORY_LABELS[found.category],
            keywords=", ".join(found.keyword_list)), "success")
    return _rules_answer(credential, number, sandbox)


@bp.route("/rules/<ref>/edit")
def edit_rule(ref):
    """The rule's row as an inline form (htmx); without JavaScript, the rule's page."""
    credential, number, sandbox, found, _others = _rule(ref)
    form = _edit_form(found, formdata=False)
    return render("keywords/rule.html", "keywords/_rule_form.html", rule=found,
                  **_context(credential, number, sandbox, edit_form=form))


@bp.route("/rules/<ref>/delete", methods=["GET", "POST"])
def delete_rule(ref):
    credential, number, sandbox, found, _others = _rule(ref)
    if request.method == "GET":
        return render("keywords/delete.html", rule=found, **_context(credential, number, sandbox))
    with database.atomic():
        _settings, stored = _store_defaults(credential, sandbox)
        found = stored.get(ref, found)
        _audit_rule("delete", found, credential, sandbox, audit.diff(_rule_snapshot(found), {
            "category": None, "keywords": None, "reply": None}))
        found.delete_instance()
    flash(_("%(category)s rule deleted: %(keywords)s.", category=CATEGORY_LABELS[found.category],
            keywords=", ".join(found.keyword_list)), "success")
    return _rules_answer(credential, number, sandbox)


@bp.route("/restore", methods=["GET", "POST"])
def restore():
    """Replace the rules with the DESIGN defaults (asked first); the settings stay."""
    sandbox = current_sandbox()
    credential, number = _credential_here(sandbox)
    if request.method == "GET":
        return render("keywords/restore.html", **_context(credential, number, sandbox))
    with database.atomic():
        _settings, stored = _store_defaults(credential, sandbox)
        if not stored:
            for old in saved_rules(credential.id, sandbox.id):
                _audit_rule("delete", old, credential, sandbox, audit.diff(_rule_snapshot(old), {
                    "category": None, "keywords": None, "reply": None}))
                old.delete_instance()
            for new in default_rules():
                new.credential, new.sandbox = credential, sandbox
                new.save()
                _audit_rule("create", new, credential, sandbox, audit.diff({}, _rule_snapshot(new)))
    flash(_("The default keywords are restored."), "success")
    return _rules_answer(credential, number, sandbox)
