"""Keywords: matching (every category, case, space and punctuation, fuzzy opt-out, Advanced
Opt-Out, double opt-in, Chinese), respond() against the database, and the keyword page."""
import json

import pytest

from tests.factories import make_credential
from tests.test_accounts import field_error, text
from wizard.core.db import database
from wizard.core.models import (
    ApiCredential,
    AuditEntry,
    Consent,
    ConsentEvent,
    InboundMessage,
    KeywordRule,
    KeywordSettings,
    Sandbox,
)
from wizard.keywords.forms import parse_keywords
from wizard.messaging.keywords import (
    DEFAULT_KEYWORDS,
    DEFAULT_REPLIES,
    Match,
    default_rules,
    match,
    normalize,
    respond,
)
from wizard.messaging.store import inbound_from_twilio

OPT_OUT = DEFAULT_REPLIES["opt_out"]
OPT_IN = DEFAULT_REPLIES["opt_in"]
HELP = DEFAULT_REPLIES["help"]


def rule(category, keywords, reply=""):
    return KeywordRule(category=category, keywords=json.dumps([k.upper() for k in keywords], ensure_ascii=False),
                       reply=reply)


def settings(**fields):
    return KeywordSettings(**fields)


# --- match(): pure, no database ---------------------------------------------------------

@pytest.mark.parametrize("body", ["STOP", "stop", "  Stop  ", "STOP.", "stop!", "STOP!!", "\tsToP\n", "“STOP”", "ＳＴＯＰ",
                                  "unsubscribe", "StopAll", "end", "Cancel?", "quit"])
def test_opt_out_keywords_match_ignoring_case_space_and_punctuation(body):
    found = match(body, default_rules(), settings(), None)
    assert found == Match(category="opt_out", keyword=found.keyword, reply=OPT_OUT, state="opted_out")
    assert normalize(found.keyword) == normalize(body)


@pytest.mark.parametrize("body", ["SUBSCRIBE", "yes", "Unstop", "START", "continue", "resume.", "Begin"])
def test_opt_in_keywords_opt_in(body):
    found = match(body, default_rules(), settings(), "opted_out")
    assert (found.category, found.reply, found.state) == ("opt_in", OPT_IN, "opted_in")


@pytest.mark.parametrize("body", ["HELP", "info", " Help? "])
def test_help_keywords_answer_and_leave_consent_alone(body):
    found = match(body, default_rules(), settings(), "opted_in")
    assert (found.category, found.reply, found.state) == ("help", HELP, None)


def test_custom_keywords_answer_with_their_reply():
    rules = [*default_rules(), rule("custom", ["HOURS", "營業時間"], "We are open 9-17.")]
    found = match("hours", rules, settings(), None)
    assert (found.category, found.keyword, found.reply, found.state) == ("custom", "HOURS", "We are open 9-17.", None)
    assert match("營業時間", rules, settings(), None).reply == "We are open 9-17."


@pytest.mark.parametrize("body", ["STOPPING", "please stop", "stop it now", "", "   ", "help me", "st op"])
def test_only_the_whole_message_is_a_keyword(body):
    assert match(body, default_rules(), settings(), None) is None


def test_the_default_reply_answers_what_matches_nothing_and_none_means_silence():
    assert match("What time is it?", default_rules(), settings(default_reply="Thanks, we got it."), None) == Match(
        category=None, keyword="", reply="Thanks, we got it.", state=None)
    assert match("What time is it?", default_rules(), settings(default_reply=""), None) is None


def test_a_rule_without_a_reply_still_moves_consent_but_sends_nothing():
    found = match("STOP", [rule("opt_out", ["STOP"], "")], settings(), None)
    assert (found.category, found.reply, found.state) == ("opt_out", None, "opted_out")


@pytest.mark.parametrize("body, heard", [("stopp", "stopp"), ("Stop please", "stop please"), ("STPO", "stpo"),
                                         ("unsubscibe", "unsubscibe"), ("cancle!", "cancle"),
                                         ("Stop texting me.", "stop texting me")])
def test_fuzzy_opt_out_when_switched_on(body, heard):
    rules = default_rules()
    on = settings(fuzzy_opt_out=True, fuzzy_reply="You are unsubscribed.", default_reply="Default")
    found = match(body, rules, on, "opted_in")
    assert (found.category, found.reply, found.state, found.fuzzy, found.heard) == (
        "opt_out", "You are unsubscribed.", "opted_out", True, heard)
    # Switched off, the same message is an ordinary one.
    off = settings(fuzzy_opt_out=False, fuzzy_reply="You are unsubscribed.", default_reply="Default")
    assert match(body, rules, off, "opted_in").category is None


@pytest.mark.parametrize("body", ["End of the day?", "ending", "and", "shopping list", "Hello", "stopwatch"])
def test_fuzzy_opt_out_leaves_ordinary_messages_and_short_keywords_alone(body):
    on = settings(fuzzy_opt_out=True, fuzzy_reply="Unsubscribed.")
    assert match(body, default_rules(), on, None) is None


def test_an_exact_keyword_wins_over_fuzzy_and_fuzzy_without_a_reply_is_silent():
    on = settings(fuzzy_opt_out=True, fuzzy_reply="")
    assert match("STOP!!", default_rules(), on, None).fuzzy is False
    found = match("stopp", default_rules(), on, None)
    assert (found.state, found.reply) == ("opted_out", None)


def test_fuzzy_opt_out_with_chinese_keywords():
    rules = [rule("opt_out", ["退訂", "取消訂閱"], "您已取消訂閱。")]
    on = settings(fuzzy_opt_out=True, fuzzy_reply="已為您取消訂閱。")
    assert match("退訂謝謝", rules, on, None).reply == "已為您取消訂閱。"
    assert match("「退訂」", rules, on, None).reply == "您已取消訂閱。"  # exact, punctuation ignored
    assert match("我要退訂", rules, on, None) is None


def test_advanced_opt_out_records_standard_keywords_without_a_second_reply():
    rules = [*default_rules(), rule("custom", ["PROMO"], "Our promo.")]
    on = settings(advanced_opt_out=True, default_reply="Default", fuzzy_opt_out=True, fuzzy_reply="Fuzzy")
    for body, category, state in [("stop", "opt_out", "opted_out"), ("START", "opt_in", "opted_in"),
                                  ("help", "help", None)]:
        found = match(body, rules, on, None)
        assert (found.category, found.state, found.reply) == (category, state, None)
    # Everything Twilio does not answer still gets our reply.
    assert match("promo", rules, on, None).reply == "Our promo."
    assert match("stopp", rules, on, None).reply == "Fuzzy"
    assert match("hello", rules, on, None).reply == "Default"


def test_advanced_opt_out_records_a_standard_keyword_even_when_no_rule_has_it():
    found = match("STOP", [rule("custom", ["PROMO"], "Promo")], settings(advanced_opt_out=True, default_reply="D"),
                  None)
    assert (found.category, found.state, found.reply) == ("opt_out", "opted_out", None)


def test_advanced_opt_out_does_not_silence_our_own_keywords():
    rules = [rule("opt_out", ["STOP", "退訂"], "已取消訂閱。")]
    found = match("退訂", rules, settings(advanced_opt_out=True), None)
    assert (found.state, found.reply) == ("opted_out", "已取消訂閱。")


def double_opt_in_rules():
    return [rule("opt_in", ["START", "JOIN"], "Reply YES to confirm."),
            rule("double_opt_in", ["YES", "確認"], "Confirmed!"),
            rule("opt_out", ["STOP"], "Bye.")]


def test_double_opt_in_makes_an_opt_in_pending_until_confirmed():
    rules = double_opt_in_rules()
    found = match("join", rules, settings(), None)
    assert (found.category, found.state, found.reply) == ("opt_in", "pending", "Reply YES to confirm.")
    found = match("yes", rules, settings(), "pending")
    assert (found.category, found.state, found.reply) == ("double_opt_in", "opted_in", "Confirmed!")
    assert match("確認", rules, settings(), "pending").state == "opted_in"


@pytest.mark.parametrize("state", [None, "opted_in", "opted_out"])
def test_a_confirmation_from_a_number_that_is_not_pending_gets_the_default_reply(state):
    rules = double_opt_in_rules()
    assert match("YES", rules, settings(default_reply="Sorry?"), state) == Match(
        category=None, keyword="", reply="Sorry?", state=None)
    assert match("YES", rules, settings(), state) is None


def test_without_double_opt_in_rules_an_opt_in_is_immediate():
    assert match("START", default_rules(), settings(), None).state == "opted_in"


def test_chinese_keywords_and_replies():
    rules = [rule("opt_out", ["退訂", "取消"], "您已成功取消訂閱，回覆「訂閱」可重新訂閱。"),
             rule("opt_in", ["訂閱"], "您已重新訂閱。"), rule("help", ["幫助", "說明"], "客服專線：02-1234-5678"),
             rule("custom", ["優惠"], "本週優惠：全館九折。")]
    assert match(" 退訂。", rules, settings(), None) == Match(
        category="opt_out", keyword="退訂", reply="您已成功取消訂閱，回覆「訂閱」可重新訂閱。", state="opted_out")
    assert match("訂閱！", rules, settings(), "opted_out").reply == "您已重新訂閱。"
    assert match("說明", rules, settings(), None).reply == "客服專線：02-1234-5678"
    assert match("優惠", rules, settings(), None).reply == "本週優惠：全館九折。"
    assert match("你好", rules, settings(default_reply="感謝您的訊息。"), None).reply == "感謝您的訊息。"


def test_case_folding_covers_other_scripts():
    rules = [rule("opt_out", ["straße", "ΣΤΟΠ"], "ok")]
    assert match("STRASSE", rules, settings(), None).state == "opted_out"
    assert match("στοπ", rules, settings(), None).state == "opted_out"


def test_parse_keywords_splits_on_commas_and_spaces_and_upper_cases():
    assert parse_keywords(" stop, quit  end,,退訂，取消、 stop ") == ["STOP", "QUIT", "END", "退訂", "取消"]
    assert parse_keywords(" , ") == []


# --- respond(): against the database -------------------------------------------------------

@pytest.fixture
def credential(app, fake_twilio):
    return make_credential(app, fake_twilio)


def inbound(app, credential_id, body, sid, sender="+14155550100", sandbox="prod"):
    """What the Twilio receiver does: store the message, then respond() in the same transaction."""
    with app.test_request_context(), database.connection_context(), database.atomic():
        message = inbound_from_twilio(
            credential=ApiCredential.get_by_id(credential_id) if credential_id else None,
            sandbox=Sandbox.get(Sandbox.name == sandbox),
            params={"MessageSid": sid, "From": sender, "To": "+15005550006", "Body": body}, signed=True)
        return respond(message), message.id


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


def test_a_repeated_stop_keeps_since_and_adds_to_the_history(app, credential):
    inbound(app, credential, "STOP", "SM020")
    with app.app_context(), database.connection_context():
        since = Consent.get().since
    inbound(app, credential, "unsubscribe", "SM021")
    with app.app_context(), database.connection_context():
        assert Consent.get().since == since
    assert register(app)[1] == [("opted_out", "STOP (SM020)"), ("opted_out", "UNSUBSCRIBE (SM021)")]


def save_rules(app, credential_id, rules, sandbox="prod", **fields):
    with app.app_context(), database.connection_context(), database.atomic():
        sandbox = Sandbox.get(Sandbox.name == sandbox)
        KeywordSettings.create(credential=credential_id, sandbox=sandbox, **fields)
        for position, (category, keywords, reply) in enumerate(rules):
            KeywordRule.create(credential=credential_id, sandbox=sandbox, category=category,
                               keywords=json.dumps(keywords, ensure_ascii=False), reply=reply, position=position)


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
    save_rules(app, credential, [("opt_in", ["JOIN"], "回覆「確認」完成訂閱。"), ("double_opt_in", ["確認"], "訂閱完成！"),
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
    assert f'href="/keywords?credential={other}"' in page and "Second (+15005550009)" in page
    assert "Dev only" not in page
    assert "Second in sandbox prod" in text(signed_in.get(f"/keywords?credential={other}"))
    assert signed_in.get(f"/keywords?credential={elsewhere}").status_code == 404  # no number in this sandbox
    assert signed_in.get("/keywords?credential=999").status_code == 404


def test_a_sandbox_without_twilio_numbers_says_where_to_add_one(signed_in):
    assert "No Twilio API credential has a number in sandbox prod yet." in text(signed_in.get("/keywords"))


def test_saving_the_settings_the_first_time_stores_the_defaults(signed_in, app, credential):
    signed_in.get(f"/keywords?credential={credential}")
    response = signed_in.post(f"/keywords?credential={credential}", {
        "settings-default_reply": " 感謝您的訊息，我們會盡快回覆。 ", "settings-fuzzy_opt_out": "y",
        "settings-fuzzy_reply": "Unsubscribed.", "settings-advanced_opt_out": ""})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/keywords?credential={credential}"
    assert rules_of(app, credential) == DEFAULTS
    with app.app_context(), database.connection_context():
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
    response = signed_in.post(f"/keywords?credential={credential}", {"settings-default_reply": "Hi"}, htmx=True)
    body = text(response)
    assert response.status_code == 200 and "<html" not in body
    assert '<section id="keyword-settings">' in body
    assert 'id="keyword-rules" hx-swap-oob="true"' in body  # the defaults just became real rules
    assert f'id="rule-{rule_id(app, credential, "STOP")}"' in body
    # The second time only the settings come back.
    again = text(signed_in.post(f"/keywords?credential={credential}", {"settings-default_reply": "Hi!"}, htmx=True))
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
    response = signed_in.post(f"/keywords?credential={credential}", {"settings-default_reply": "x" * 1600})
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
    signed_in.post(f"/keywords?credential={credential}", {"settings-default_reply": ""})
    stop = rule_id(app, credential, "STOP")
    form = text(signed_in.htmx_get(f"/keywords/rules/{stop}/edit?credential={credential}"))
    assert f'<tr id="rule-{stop}">' in form and "<html" not in form
    assert 'value="STOP, QUIT, CANCEL, END, UNSUBSCRIBE, STOPALL"' in form
    response = signed_in.post(f"/keywords/rules/{stop}?credential={credential}", {
        f"rule-{stop}-category": "opt_out", f"rule-{stop}-keywords": "stop 退訂 quit",
        f"rule-{stop}-reply": "您已取消訂閱。"}, htmx=True)
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
    signed_in.post(f"/keywords?credential={credential}", {"settings-default_reply": ""})
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
        f"rule-{helper}-category": "help", f"rule-{helper}-keywords": "help info 幫助", f"rule-{helper}-reply": "Hi"})
    assert ok.status_code == 303


def test_edit_a_default_rule_without_javascript_stores_the_defaults_first(signed_in, app, credential):
    page = text(signed_in.get(f"/keywords/rules/default-help?credential={credential}"))
    assert "<h1>Edit the rule HELP, INFO</h1>" in page
    assert 'value="HELP, INFO"' in page
    response = signed_in.post(f"/keywords/rules/default-help?credential={credential}", {
        "rule-default-help-category": "help", "rule-default-help-keywords": "HELP, INFO, 說明",
        "rule-default-help-reply": "客服專線 02-1234-5678"})
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
        f"rule-{yes2}-category": "double_opt_in", f"rule-{yes2}-keywords": "CONFIRM", f"rule-{yes2}-reply": "Done"})
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

