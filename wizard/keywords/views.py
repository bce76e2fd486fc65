"""The keywords page: each Twilio credential's rules and replies in the current sandbox.

Until its page is first saved the default keywords and replies are in force; the first save (of the settings
or of any rule) stores them as real rules the admin then edits."""
import json

import peewee
from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _

from wizard.core import audit
from wizard.core.context import current_sandbox
from wizard.core.db import database
from wizard.core.editing import EditConflict, check_unchanged, saved_meanwhile, update_unchanged
from wizard.core.ids import row_id
from wizard.core.models import (
    ApiCredential,
    CredentialNumber,
    KeywordRule,
    KeywordSettings,
)
from wizard.keywords.forms import KeywordRuleForm, KeywordSettingsForm
from wizard.messaging.keywords import (
    CATEGORIES,
    CATEGORY_HELP,
    CATEGORY_LABELS,
    default_rules,
    rules_for,
    saved_rules,
    saved_settings,
)
from wizard.shell.pages import is_htmx, redirect_to, render

bp = Blueprint("keywords", __name__, url_prefix="/keywords")


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
        credential_id = request.args.get("credential", type=row_id)
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
    credential_id = request.args.get("credential", type=row_id)
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
    try:
        with database.atomic():
            settings, stored = _store_defaults(credential, sandbox)
            before = {name: getattr(settings, name) for name in SETTINGS_FIELDS}
            after = {"default_reply": form.default_reply.data or "", "fuzzy_opt_out": bool(form.fuzzy_opt_out.data),
                     "fuzzy_reply": form.fuzzy_reply.data or "",
                     "advanced_opt_out": bool(form.advanced_opt_out.data)}
            check_unchanged(form, settings)
            changes = audit.diff(before, after)
            if changes:
                update_unchanged(form, settings,
                                 {getattr(KeywordSettings, name): value for name, value in after.items()})
                audit.record("update", _audited(settings, _pair_label(credential, sandbox)), changes)
    except EditConflict:
        # The first save's settings row was rolled back with the rest: then the defaults are what is saved.
        current = saved_settings(credential.id, sandbox.id) or KeywordSettings()
        form.version.data = str(current.version)
        return render("keywords/index.html", "keywords/_settings.html", status=409,
                      **_context(credential, number, sandbox, settings_form=form,
                                 settings_conflict=_saved_settings(form, current)))
    flash(_("Keyword settings saved."), "success")
    if not is_htmx():
        return redirect_to(_page_url(credential))
    # The first save turned the defaults into real rules: their rows are stale.
    also = ("keywords/_rules.html",) if stored else ()
    return render("keywords/index.html", "keywords/_settings.html", also=also,
                  **_context(credential, number, sandbox))


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _saved_settings(form, current: KeywordSettings) -> list[tuple[str, str]]:
    """What the conflict notice lists: the settings as saved now, by their labels."""
    return [(form.default_reply.label.text, current.default_reply or _("No reply")),
            (form.fuzzy_opt_out.label.text, _yes_no(current.fuzzy_opt_out)),
            (form.fuzzy_reply.label.text, current.fuzzy_reply or _("No reply")),
            (form.advanced_opt_out.label.text, _yes_no(current.advanced_opt_out))]


def _saved_rule(form, current: KeywordRule) -> list[tuple[str, str]]:
    """What the conflict notice lists: the rule as saved now, by its labels."""
    return [(form.category.label.text, CATEGORY_LABELS[current.category]),
            (form.keywords.label.text, ", ".join(current.keyword_list)),
            (form.reply.label.text, current.reply or _("No reply"))]


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
    data = {"category": rule.category, "keywords": ", ".join(rule.keyword_list), "reply": rule.reply,
            "version": rule.version}
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
    opened = found
    try:
        with database.atomic():
            _settings, stored = _store_defaults(credential, sandbox)
            found = stored.get(ref, opened)
            before = _rule_snapshot(found)
            check_unchanged(form, found)
            found.category, found.reply = form.category.data, form.reply.data or ""
            found.keywords = json.dumps(form.parsed, ensure_ascii=False)
            changes = audit.diff(before, _rule_snapshot(found))
            if changes:
                update_unchanged(form, found, {KeywordRule.category: found.category, KeywordRule.reply: found.reply,
                                               KeywordRule.keywords: found.keywords})
                _audit_rule("update", found, credential, sandbox, changes)
    except EditConflict:
        # A default rule not stored yet has no saved row: only a tampered version gets here.
        current = saved_meanwhile(form, opened) if opened.id else opened
        form.version.data = str(current.version)
        conflict = _saved_rule(form, current)
        if is_htmx():
            return _rules_answer(credential, number, sandbox, status=409, editing=ref, edit_form=form,
                                 conflict=conflict)
        return render("keywords/rule.html", status=409, rule=current,
                      **_context(credential, number, sandbox, edit_form=form, conflict=conflict))
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
    """Replace the rules with the default keywords and replies (asked first); the settings stay."""
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
