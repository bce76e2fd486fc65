"""Keywords: respond() against the database, and the keyword page (matching itself, without
a database: tests/unit/test_keywords.py)."""
import pytest

from tests.support.factories import make_credential
from tests.support.html import field_error, text
from tests.support.keywords import HELP, OPT_IN, OPT_OUT, inbound, save_rules
from wizard.core.db import database
from wizard.core.models import AuditEntry, Consent, ConsentEvent, InboundMessage, KeywordRule, KeywordSettings, Sandbox
from wizard.messaging.keywords import DEFAULT_KEYWORDS, DEFAULT_REPLIES

# --- respond(): against the database -------------------------------------------------------

@pytest.fixture
def credential(app, fake_twilio):
    return make_credential(app, fake_twilio)


def stored(app, message_id):
    with app.app_context(), database.connection_context():
        return InboundMessage.get_by_id(message_id)


def register(app, sender="+14155550100", sandbox="prod"):
    """A number's state and its history as (state, source), oldest first."""
    with app.app_context(), database.connection_context():
        consent = Consent.get_or_none(Consent.phone_number == sender,
                                      Consent.sandbox == Sandbox.get(Sandbox.name == sandbox))
        if consent is None:
            return None, []
        events = consent.history.order_by(ConsentEvent.at, ConsentEvent.id)
        return consent.state, [(e.state, e.source) for e in events]


def test_respond_with_the_defaults_records_consent_with_history(app, credential):
    reply, message_id = inbound(app, credential, " stop. ", "SM001")
    assert reply == OPT_OUT
    message = stored(app, message_id)
    assert (message.keyword_category, message.reply) == ("opt_out", OPT_OUT)
    assert register(app) == ("opted_out", [("opted_out", "STOP (SM001)")])

    reply, message_id = inbound(app, credential, "Start", "SM002")
    assert reply == OPT_IN
    assert stored(app, message_id).keyword_category == "opt_in"
    assert register(app) == ("opted_in", [("opted_out", "STOP (SM001)"), ("opted_in", "START (SM002)")])


def test_respond_to_help_and_to_nothing(app, credential):
    reply, message_id = inbound(app, credential, "help", "SM010")
    assert reply == HELP and stored(app, message_id).keyword_category == "help"
    reply, message_id = inbound(app, credential, "hello there", "SM011")
    message = stored(app, message_id)
    assert reply is None and (message.keyword_category, message.reply) == (None, None)
    assert register(app) == (None, [])  # neither touches the register


def test_a_repeated_stop_keeps_since_and_adds_to_the_history(app, credential, in_app):
    inbound(app, credential, "STOP", "SM020")
    with in_app():
        since = Consent.get().since
    inbound(app, credential, "unsubscribe", "SM021")
    with in_app():
        assert Consent.get().since == since
    assert register(app)[1] == [("opted_out", "STOP (SM020)"), ("opted_out", "UNSUBSCRIBE (SM021)")]


def test_respond_uses_the_saved_rules_of_the_credential_and_sandbox(app, credential, fake_twilio):
    save_rules(app, credential, [("opt_out", ["退訂"], "您已取消訂閱。"), ("custom", ["HOURS"], "9-17")],
               default_reply="感謝您的訊息。")
    assert inbound(app, credential, "退訂", "SM030")[0] == "您已取消訂閱。"
    assert register(app) == ("opted_out", [("opted_out", "退訂 (SM030)")])
    assert inbound(app, credential, "STOP", "SM031")[0] == "感謝您的訊息。"  # not one of this pair's keywords
    assert inbound(app, credential, "hours", "SM032")[0] == "9-17"
    # Another credential in the same sandbox still has the defaults; the register is the sandbox's.
    other = make_credential(app, fake_twilio, name="Other", numbers={"prod": "+15005550009"})
    assert inbound(app, other, "STOP", "SM033", sender="+14155550111")[0] == OPT_OUT
    assert register(app, "+14155550111")[0] == "opted_out"


def test_respond_without_a_credential_uses_the_defaults(app):
    reply, message_id = inbound(app, None, "STOP", "custom-1")
    assert reply == OPT_OUT and stored(app, message_id).keyword_category == "opt_out"
    assert register(app)[0] == "opted_out"


def test_respond_with_fuzzy_opt_out_and_advanced_opt_out(app, credential):
    save_rules(app, credential, [(c, k, DEFAULT_REPLIES[c]) for c, k in DEFAULT_KEYWORDS.items()],
               fuzzy_opt_out=True, fuzzy_reply="Unsubscribed (fuzzy).", advanced_opt_out=True)
    reply, message_id = inbound(app, credential, "Stop please", "SM040")
    assert reply == "Unsubscribed (fuzzy)." and stored(app, message_id).keyword_category == "opt_out"
    assert register(app) == ("opted_out", [("opted_out", "stop please ≈ STOP (SM040)")])
    reply, message_id = inbound(app, credential, "START", "SM041")
    assert reply is None  # Twilio answered already
    message = stored(app, message_id)
    assert (message.keyword_category, message.reply) == ("opt_in", None)
    assert register(app)[0] == "opted_in"


def test_respond_with_double_opt_in(app, credential):
    save_rules(app, credential, [("opt_in", ["JOIN"], "回覆「確認」完成訂閱。"),
                                 ("double_opt_in", ["確認"], "訂閱完成！"),
                                 ("opt_out", ["STOP"], "Bye")], default_reply="?")
    assert inbound(app, credential, "確認", "SM050")[0] == "?"  # nothing pending yet
    assert register(app) == (None, [])
    assert inbound(app, credential, "join", "SM051")[0] == "回覆「確認」完成訂閱。"
    assert register(app)[0] == "pending"
    reply, message_id = inbound(app, credential, "確認", "SM052")
    assert reply == "訂閱完成！" and stored(app, message_id).keyword_category == "double_opt_in"
    assert register(app) == ("opted_in", [("pending", "JOIN (SM051)"), ("opted_in", "確認 (SM052)")])


def test_the_register_is_per_sandbox(app, fake_twilio):
    credential = make_credential(app, fake_twilio, numbers={"prod": "+15005550006", "dev": "+15005550007"})
    inbound(app, credential, "STOP", "SM060", sandbox="prod")
    inbound(app, credential, "START", "SM061", sandbox="dev")
    assert register(app, sandbox="prod")[0] == "opted_out"
    assert register(app, sandbox="dev")[0] == "opted_in"


# --- The keyword page ----------------------------------------------------------------------

def rules_of(app, credential_id, sandbox="prod"):
    with app.app_context(), database.connection_context():
        sandbox = Sandbox.get(Sandbox.name == sandbox)
        return [(r.category, r.keyword_list, r.reply) for r in KeywordRule.select().where(
            KeywordRule.credential == credential_id, KeywordRule.sandbox == sandbox).order_by(KeywordRule.position,
                                                                                              KeywordRule.id)]


def rule_id(app, credential_id, keyword):
    with app.app_context(), database.connection_context():
        return next(r.id for r in KeywordRule.select().where(KeywordRule.credential == credential_id)
                    if keyword in r.keyword_list)


def audit_of(app, object_type):
    with app.app_context(), database.connection_context():
        return list(AuditEntry.select().where(AuditEntry.object_type == object_type).order_by(AuditEntry.id))


DEFAULTS = [(c, k, DEFAULT_REPLIES[c]) for c, k in DEFAULT_KEYWORDS.items()]


def test_the_page_shows_the_defaults_until_saved(signed_in, app, credential):
    page = text(signed_in.get("/keywords"))  # the sandbox's only credential: no choice to make
    assert "Main Twilio in sandbox prod" in page
    assert "These are the default keywords." in page
    for keyword in ("SUBSCRIBE", "STOPALL", "INFO"):
        assert f"<code>{keyword}</code>" in page
    assert 'id="rule-default-opt_out"' in page
    assert rules_of(app, credential) == []  # a GET stores nothing


def test_with_several_credentials_the_page_asks_which(signed_in, app, fake_twilio, credential):
    other = make_credential(app, fake_twilio, name="Second", numbers={"prod": "+15005550009"})
    elsewhere = make_credential(app, fake_twilio, name="Dev only", numbers={"dev": "+15005550010"})
    page = text(signed_in.get("/keywords"))
    assert "Choose the API credential whose keywords you want to edit." in page
    assert f'href="/keywords?credential={other}"' in page and "Second (+1 500-555-0009 · United States)" in page
    assert "Dev only" not in page
    assert "Second in sandbox prod" in text(signed_in.get(f"/keywords?credential={other}"))
    assert signed_in.get(f"/keywords?credential={elsewhere}").status_code == 404  # no number in this sandbox
    assert signed_in.get("/keywords?credential=999").status_code == 404


def test_a_sandbox_without_twilio_numbers_says_where_to_add_one(signed_in):
    assert "No Twilio API credential has a number in sandbox prod yet." in text(signed_in.get("/keywords"))


def test_saving_the_settings_the_first_time_stores_the_defaults(signed_in, app, credential, in_app):
    signed_in.get(f"/keywords?credential={credential}")
    response = signed_in.post(f"/keywords?credential={credential}", {
        "settings-default_reply": " 感謝您的訊息，我們會盡快回覆。 ", "settings-fuzzy_opt_out": "y",
        "settings-fuzzy_reply": "Unsubscribed.", "settings-advanced_opt_out": "", "settings-version": "1"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/keywords?credential={credential}"
    assert rules_of(app, credential) == DEFAULTS
    with in_app():
        saved = KeywordSettings.get()
        assert (saved.default_reply, saved.fuzzy_opt_out, saved.fuzzy_reply, saved.advanced_opt_out) == (
            "感謝您的訊息，我們會盡快回覆。", True, "Unsubscribed.", False)
    page = text(signed_in.get(f"/keywords?credential={credential}"))
    assert "Keyword settings saved." in page and "These are the default keywords." not in page
    assert [e.action for e in audit_of(app, "KeywordRule")] == ["create"] * 3
    settings_audit = audit_of(app, "KeywordSettings")
    assert [e.action for e in settings_audit] == ["create", "update"]
    assert settings_audit[0].object_label == "Main Twilio · prod"
    assert settings_audit[1].changed_fields["fuzzy_opt_out"] == [False, True]
    # The reply now goes out.
    assert inbound(app, credential, "hello", "SM070")[0] == "感謝您的訊息，我們會盡快回覆。"


def test_settings_with_htmx_answer_the_section_and_refresh_the_rules(signed_in, app, credential):
    signed_in.get(f"/keywords?credential={credential}")
    response = signed_in.post(f"/keywords?credential={credential}", {"settings-default_reply": "Hi",
                                                                      "settings-version": "1"}, htmx=True)
    body = text(response)
    assert response.status_code == 200 and "<html" not in body
    assert '<section id="keyword-settings">' in body
    assert 'id="keyword-rules" hx-swap-oob="true"' in body  # the defaults just became real rules
    assert f'id="rule-{rule_id(app, credential, "STOP")}"' in body
    # The second time only the settings come back.
    again = text(signed_in.post(f"/keywords?credential={credential}", {"settings-default_reply": "Hi!",
                                                                                "settings-version": "2"}, htmx=True))
    assert "keyword-rules" not in again and "Keyword settings saved." in again


def test_bad_settings_are_refused_beside_the_field(signed_in, app, credential):
    signed_in.get(f"/keywords?credential={credential}")
    for htmx in (False, True):
        response = signed_in.post(f"/keywords?credential={credential}",
                                  {"settings-default_reply": "x" * 1601, "settings-fuzzy_reply": "a\x07b"}, htmx=htmx)
        assert response.status_code == 422
        page = text(response)
        assert field_error(page, "settings-default_reply") == \
            "A reply has at most 1600 characters (this one has 1601)."
        assert field_error(page, "settings-fuzzy_reply") == \
            "A reply cannot contain control characters other than line breaks."
    assert rules_of(app, credential) == []
    response = signed_in.post(f"/keywords?credential={credential}", {"settings-default_reply": "x" * 1600,
                                                                      "settings-version": "1"})
    assert response.status_code == 303


def test_add_a_rule_stores_the_defaults_too(signed_in, app, credential):
    signed_in.get(f"/keywords?credential={credential}")
    response = signed_in.post(f"/keywords/rules?credential={credential}", {
        "new-category": "custom", "new-keywords": "hours, 營業時間  open", "new-reply": "週一至週五 9:00-18:00"})
    assert response.status_code == 303
    assert rules_of(app, credential) == [*DEFAULTS, ("custom", ["HOURS", "營業時間", "OPEN"], "週一至週五 9:00-18:00")]
    page = text(signed_in.get(f"/keywords?credential={credential}"))
    assert "Custom rule added: HOURS, 營業時間, OPEN." in page
    entry = audit_of(app, "KeywordRule")[-1]
    assert entry.action == "create" and entry.object_label == "Main Twilio · prod · HOURS, 營業時間, OPEN"
    assert entry.changed_fields["keywords"] == [None, "HOURS, 營業時間, OPEN"]
    assert inbound(app, credential, "營業時間?", "SM080")[0] == "週一至週五 9:00-18:00"


def test_add_a_rule_with_htmx_answers_the_rules_section(signed_in, app, credential):
    signed_in.get(f"/keywords?credential={credential}")
    response = signed_in.post(f"/keywords/rules?credential={credential}", {
        "new-category": "opt_out", "new-keywords": "退訂", "new-reply": "您已取消訂閱。"}, htmx=True)
    body = text(response)
    assert response.status_code == 200 and "<html" not in body
    assert '<section id="keyword-rules" >' in body or '<section id="keyword-rules">' in body
    assert "<code>退訂</code>" in body and "Opt-Out rule added: 退訂." in body


@pytest.mark.parametrize("keywords, message", [
    ("", "Enter at least one keyword."),
    (" ,  , ", "Enter at least one keyword."),
    ("x" * 33, f"Keyword “{'X' * 33}” is longer than 32 characters."),
    ("ok bad\x07word", "A keyword cannot contain control characters."),
    ("!!!", "Keyword “!!!” has no letters or digits; punctuation around a keyword is ignored when matching."),
    ("hello, Stop", "Keyword “STOP” is already in the Opt-Out rule (STOP, QUIT, CANCEL, END, UNSUBSCRIBE, STOPALL). "
                    "A keyword can be in one rule only."),
    ("stop.", "Keyword “STOP.” is already in the Opt-Out rule (STOP, QUIT, CANCEL, END, UNSUBSCRIBE, STOPALL). "
              "A keyword can be in one rule only."),
])
def test_bad_keywords_are_refused_beside_the_field_and_keep_what_was_typed(signed_in, app, credential, keywords,
                                                                           message):
    signed_in.get(f"/keywords?credential={credential}")
    for htmx in (False, True):
        response = signed_in.post(f"/keywords/rules?credential={credential}",
                                  {"new-category": "custom", "new-keywords": keywords, "new-reply": "Typed reply"},
                                  htmx=htmx)
        assert response.status_code == 422
        page = text(response)
        assert field_error(page, "new-keywords") == message
        assert "Typed reply</textarea>" in page
    assert rules_of(app, credential) == []


def test_a_keyword_of_32_characters_and_a_reply_of_1600_are_fine(signed_in, app, credential):
    signed_in.get(f"/keywords?credential={credential}")
    response = signed_in.post(f"/keywords/rules?credential={credential}",
                              {"new-category": "help", "new-keywords": "k" * 32, "new-reply": "r" * 1600})
    assert response.status_code == 303
    assert rules_of(app, credential)[-1] == ("help", ["K" * 32], "r" * 1600)


def test_other_bad_rule_input(signed_in, app, credential):
    signed_in.get(f"/keywords?credential={credential}")
    cases = [({"new-category": "custom", "new-keywords": "promo", "new-reply": ""}, "new-reply",
              "A Custom rule needs a reply: answering is all it does."),
             ({"new-category": "custom", "new-keywords": "promo", "new-reply": "r" * 1601}, "new-reply",
              "A reply has at most 1600 characters (this one has 1601)."),
             ({"new-category": "vip", "new-keywords": "promo", "new-reply": "x"}, "new-category", "Choose a category.")]
    for data, field, message in cases:
        response = signed_in.post(f"/keywords/rules?credential={credential}", data)
        assert response.status_code == 422 and field_error(text(response), field) == message
    assert rules_of(app, credential) == []


def test_edit_a_saved_rule_inline_with_htmx(signed_in, app, credential):
    signed_in.get(f"/keywords?credential={credential}")
    signed_in.post(f"/keywords?credential={credential}", {"settings-default_reply": "", "settings-version": "1"})
    stop = rule_id(app, credential, "STOP")
    form = text(signed_in.htmx_get(f"/keywords/rules/{stop}/edit?credential={credential}"))
    assert f'<tr id="rule-{stop}">' in form and "<html" not in form
    assert 'value="STOP, QUIT, CANCEL, END, UNSUBSCRIBE, STOPALL"' in form
    response = signed_in.post(f"/keywords/rules/{stop}?credential={credential}", {
        f"rule-{stop}-category": "opt_out", f"rule-{stop}-keywords": "stop 退訂 quit",
        f"rule-{stop}-reply": "您已取消訂閱。", f"rule-{stop}-version": "1"}, htmx=True)
    body = text(response)
    assert response.status_code == 200 and "<html" not in body and 'id="keyword-rules"' in body
    assert "Opt-Out rule saved: STOP, 退訂, QUIT." in body
    assert ("opt_out", ["STOP", "退訂", "QUIT"], "您已取消訂閱。") in rules_of(app, credential)
    entry = audit_of(app, "KeywordRule")[-1]
    assert entry.action == "update"
    assert entry.changed_fields == {"keywords": ["STOP, QUIT, CANCEL, END, UNSUBSCRIBE, STOPALL", "STOP, 退訂, QUIT"],
                                    "reply": [OPT_OUT, "您已取消訂閱。"]}
    # Cancel puts the plain row back.
    row = text(signed_in.htmx_get(f"/keywords/rules/{stop}?credential={credential}"))
    assert f'<tr id="rule-{stop}">' in row and "<code>退訂</code>" in row and "<form" not in row


def test_an_inline_edit_with_an_error_keeps_the_row_a_form(signed_in, app, credential):
    signed_in.get(f"/keywords?credential={credential}")
    signed_in.post(f"/keywords?credential={credential}", {"settings-default_reply": "", "settings-version": "1"})
    helper = rule_id(app, credential, "HELP")
    response = signed_in.post(f"/keywords/rules/{helper}?credential={credential}", {
        f"rule-{helper}-category": "help", f"rule-{helper}-keywords": "help, start", f"rule-{helper}-reply": "Typed"},
        htmx=True)
    assert response.status_code == 422
    body = text(response)
    assert field_error(body, f"rule-{helper}-keywords") == (
        "Keyword “START” is already in the Opt-In rule (SUBSCRIBE, YES, UNSTOP, START, CONTINUE, RESUME, BEGIN). "
        "A keyword can be in one rule only.")
    assert f'<textarea aria-describedby="rule-{helper}-reply-help" id="rule-{helper}-reply"' in body
    assert "Typed</textarea>" in body
    assert ("help", ["HELP", "INFO"], HELP) in rules_of(app, credential)
    # A rule may keep its own keywords.
    ok = signed_in.post(f"/keywords/rules/{helper}?credential={credential}", {
        f"rule-{helper}-category": "help", f"rule-{helper}-keywords": "help info 幫助", f"rule-{helper}-reply": "Hi",
        f"rule-{helper}-version": "1"})
    assert ok.status_code == 303


def test_edit_a_default_rule_without_javascript_stores_the_defaults_first(signed_in, app, credential):
    page = text(signed_in.get(f"/keywords/rules/default-help?credential={credential}"))
    assert "<h1>Edit the rule HELP, INFO</h1>" in page
    assert 'value="HELP, INFO"' in page
    response = signed_in.post(f"/keywords/rules/default-help?credential={credential}", {
        "rule-default-help-category": "help", "rule-default-help-keywords": "HELP, INFO, 說明",
        "rule-default-help-reply": "客服專線 02-1234-5678", "rule-default-help-version": "1"})
    assert response.status_code == 303 and response.headers["Location"] == f"/keywords?credential={credential}"
    assert rules_of(app, credential) == [*DEFAULTS[:2], ("help", ["HELP", "INFO", "說明"], "客服專線 02-1234-5678")]
    assert [e.action for e in audit_of(app, "KeywordRule")] == ["create"] * 3 + ["update"]
    assert signed_in.get(f"/keywords/rules/default-help?credential={credential}").status_code == 404  # saved now
    # Errors on the rule's own page: 422 and the page again.
    helper = rule_id(app, credential, "HELP")
    response = signed_in.post(f"/keywords/rules/{helper}?credential={credential}", {
        f"rule-{helper}-category": "help", f"rule-{helper}-keywords": "", f"rule-{helper}-reply": "x"})
    assert response.status_code == 422 and "<h1>Edit the rule HELP, INFO, 說明</h1>" in text(response)
    assert field_error(text(response), f"rule-{helper}-keywords") == "Enter at least one keyword."


def test_change_a_rules_category(signed_in, app, credential):
    signed_in.get(f"/keywords?credential={credential}")
    signed_in.post(f"/keywords/rules?credential={credential}",
                   {"new-category": "custom", "new-keywords": "YES2", "new-reply": "x"})
    yes2 = rule_id(app, credential, "YES2")
    signed_in.post(f"/keywords/rules/{yes2}?credential={credential}", {
        f"rule-{yes2}-category": "double_opt_in", f"rule-{yes2}-keywords": "CONFIRM", f"rule-{yes2}-reply": "Done",
        f"rule-{yes2}-version": "1"})
    assert rules_of(app, credential)[-1] == ("double_opt_in", ["CONFIRM"], "Done")


def test_delete_a_rule_asks_first_without_javascript(signed_in, app, credential):
    page = text(signed_in.get(f"/keywords/rules/default-help/delete?credential={credential}"))
    assert "Delete the rule HELP, INFO?" in page
    response = signed_in.post(f"/keywords/rules/default-help/delete?credential={credential}")
    assert response.status_code == 303
    assert rules_of(app, credential) == DEFAULTS[:2]
    assert [e.action for e in audit_of(app, "KeywordRule")] == ["create"] * 3 + ["delete"]
    assert audit_of(app, "KeywordRule")[-1].changed_fields["keywords"] == ["HELP, INFO", None]
    assert "Help rule deleted: HELP, INFO." in text(signed_in.get(f"/keywords?credential={credential}"))
    # HELP now gets no reply (there is no default reply either).
    assert inbound(app, credential, "HELP", "SM090")[0] is None


def test_delete_with_htmx_answers_the_section_and_warns_without_an_opt_out_rule(signed_in, app, credential):
    signed_in.get(f"/keywords?credential={credential}")
    body = text(signed_in.post(f"/keywords/rules/default-opt_out/delete?credential={credential}", htmx=True))
    assert "<html" not in body and 'id="keyword-rules"' in body
    assert "There is no Opt-Out rule" in body
    assert [c for c, _k, _r in rules_of(app, credential)] == ["opt_in", "help"]


def test_restore_the_default_keywords(signed_in, app, credential):
    signed_in.get(f"/keywords?credential={credential}")
    signed_in.post(f"/keywords/rules?credential={credential}",
                   {"new-category": "custom", "new-keywords": "promo", "new-reply": "Promo"})
    # Once saved, the defaults are ordinary rules with ids.
    assert signed_in.post(f"/keywords/rules/default-opt_out/delete?credential={credential}").status_code == 404
    stop = rule_id(app, credential, "STOP")
    signed_in.post(f"/keywords/rules/{stop}/delete?credential={credential}")
    assert "Restore the default keywords?" in text(signed_in.get(f"/keywords/restore?credential={credential}"))
    response = signed_in.post(f"/keywords/restore?credential={credential}", htmx=True)
    assert response.status_code == 200 and "The default keywords are restored." in text(response)
    assert rules_of(app, credential) == DEFAULTS
    actions = [e.action for e in audit_of(app, "KeywordRule")]
    assert actions[-6:] == ["delete", "delete", "delete", "create", "create", "create"]
    assert signed_in.post(f"/keywords/restore?credential={credential}").status_code == 303


def test_keywords_are_unique_per_credential_and_sandbox_only(signed_in, app, fake_twilio, credential):
    other = make_credential(app, fake_twilio, name="Second", numbers={"prod": "+15005550009"})
    signed_in.get(f"/keywords?credential={credential}")
    for credential_id in (credential, other):
        response = signed_in.post(f"/keywords/rules?credential={credential_id}",
                                  {"new-category": "custom", "new-keywords": "PROMO", "new-reply": "x"})
        assert response.status_code == 303
    response = signed_in.post(f"/keywords/rules?credential={other}",
                              {"new-category": "help", "new-keywords": "promo", "new-reply": "x"})
    assert field_error(text(response), "new-keywords") == \
        "Keyword “PROMO” is already in the Custom rule (PROMO). A keyword can be in one rule only."


def test_rules_of_another_sandbox_are_not_reachable(signed_in, app, fake_twilio):
    credential = make_credential(app, fake_twilio, numbers={"prod": "+15005550006", "dev": "+15005550007"})
    save_rules(app, credential, [("custom", ["DEVONLY"], "x")], sandbox="dev")
    dev_rule = rule_id(app, credential, "DEVONLY")
    signed_in.get("/keywords")
    assert signed_in.get(f"/keywords/rules/{dev_rule}?credential={credential}").status_code == 404
    assert signed_in.post(f"/keywords/rules/{dev_rule}/delete?credential={credential}").status_code == 404
    assert rules_of(app, credential, "dev") == [("custom", ["DEVONLY"], "x")]


def test_every_write_needs_the_csrf_token(signed_in, app, credential):
    signed_in.get(f"/keywords?credential={credential}")
    for url, data in [(f"/keywords?credential={credential}", {"settings-default_reply": "x"}),
                      (f"/keywords/rules?credential={credential}",
                       {"new-category": "custom", "new-keywords": "a", "new-reply": "b"}),
                      (f"/keywords/rules/default-help?credential={credential}",
                       {"rule-default-help-category": "help", "rule-default-help-keywords": "h"}),
                      (f"/keywords/rules/default-help/delete?credential={credential}", {}),
                      (f"/keywords/restore?credential={credential}", {})]:
        assert signed_in.post(url, data, csrf=False).status_code == 400
    assert rules_of(app, credential) == []


def test_keywords_and_replies_are_shown_escaped(signed_in, app, credential):
    signed_in.get(f"/keywords?credential={credential}")
    signed_in.post(f"/keywords/rules?credential={credential}", {
        "new-category": "custom", "new-keywords": "<b>x</b>", "new-reply": "<script>alert(1)</script>"})
    page = text(signed_in.get(f"/keywords?credential={credential}"))
    assert "<script>alert(1)</script>" not in page and "<B>X</B>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<code>&lt;B&gt;X&lt;/B&gt;</code>" in page
    response = signed_in.post(f"/keywords/rules?credential={credential}",
                              {"new-category": "help", "new-keywords": "<b>x</b>", "new-reply": "y"})
    assert "<B>X</B>" not in text(response) and "&lt;B&gt;X&lt;/B&gt;" in text(response)


def test_the_page_needs_sign_in(client, admin, credential):
    response = client.get(f"/keywords?credential={credential}")
    assert response.status_code == 303 and "/login" in response.headers["Location"]


# --- Edits that would overwrite someone else's save -----------------------------------------

def test_a_rule_edit_over_someone_elses_save_is_a_conflict_that_keeps_the_input(signed_in, app, credential):
    signed_in.get(f"/keywords?credential={credential}")
    signed_in.post(f"/keywords?credential={credential}", {"settings-default_reply": "", "settings-version": "1"})
    helper = rule_id(app, credential, "HELP")
    opened = text(signed_in.get(f"/keywords/rules/{helper}?credential={credential}"))
    assert f'id="rule-{helper}-version" name="rule-{helper}-version" type="hidden" value="1"' in opened
    theirs = signed_in.post(f"/keywords/rules/{helper}?credential={credential}", {
        f"rule-{helper}-category": "help", f"rule-{helper}-keywords": "HELP, INFO", f"rule-{helper}-reply": "Theirs",
        f"rule-{helper}-version": "1"})
    assert theirs.status_code == 303
    for htmx in (True, False):  # the same old form, saved again
        mine = signed_in.post(f"/keywords/rules/{helper}?credential={credential}", {
            f"rule-{helper}-category": "help", f"rule-{helper}-keywords": "HELP, INFO, 說明",
            f"rule-{helper}-reply": "Mine", f"rule-{helper}-version": "1"}, htmx=htmx)
        assert mine.status_code == 409
        page = text(mine)
        assert "Someone else saved this after you opened it. Nothing of yours was saved" in page
        assert "<li>Reply: Theirs</li>" in page
        assert 'value="HELP, INFO, 說明"' in page and "Mine</textarea>" in page  # what was typed stays
        assert f'name="rule-{helper}-version" type="hidden" value="2"' in page
    assert ("help", ["HELP", "INFO"], "Theirs") in rules_of(app, credential)
    # Saving again, knowingly, replaces their reply.
    again = signed_in.post(f"/keywords/rules/{helper}?credential={credential}", {
        f"rule-{helper}-category": "help", f"rule-{helper}-keywords": "HELP, INFO", f"rule-{helper}-reply": "Mine",
        f"rule-{helper}-version": "2"})
    assert again.status_code == 303
    assert ("help", ["HELP", "INFO"], "Mine") in rules_of(app, credential)


def test_a_settings_save_over_someone_elses_save_is_a_conflict_that_keeps_the_input(signed_in, app, credential,
                                                                                   in_app):
    opened = text(signed_in.get(f"/keywords?credential={credential}"))
    assert 'id="settings-version" name="settings-version" type="hidden" value="1"' in opened
    theirs = signed_in.post(f"/keywords?credential={credential}", {
        "settings-default_reply": "Theirs", "settings-version": "1"})
    assert theirs.status_code == 303
    for htmx in (True, False):
        mine = signed_in.post(f"/keywords?credential={credential}", {
            "settings-default_reply": "Mine", "settings-fuzzy_opt_out": "y", "settings-version": "1"}, htmx=htmx)
        assert mine.status_code == 409
        page = text(mine)
        assert "Someone else saved this after you opened it. Nothing of yours was saved" in page
        assert "<li>Default reply: Theirs</li>" in page
        assert "Mine</textarea>" in page
        assert 'name="settings-version" type="hidden" value="2"' in page
    with in_app():
        saved = KeywordSettings.get()
        assert (saved.default_reply, saved.fuzzy_opt_out) == ("Theirs", False)
