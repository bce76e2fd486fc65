"""Keyword matching: every category, case, space and punctuation, fuzzy opt-out, Advanced
Opt-Out, double opt-in, Chinese; no database."""
import pytest

from tests.support.keywords import HELP, OPT_IN, OPT_OUT, rule, settings
from wizard.keywords.forms import parse_keywords
from wizard.messaging.keywords import Match, default_rules, match, normalize


@pytest.mark.parametrize("body", ["STOP", "stop", "  Stop  ", "STOP.", "stop!", "STOP!!", "\tsToP\n", "“STOP”",
                                  "ＳＴＯＰ",
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


def double_opt_in_rules():
    return [rule("opt_in", ["START", "JOIN"], "Reply YES to confirm."),
            rule("double_opt_in", ["YES", "確認"], "Confirmed!"),
            rule("opt_out", ["STOP"], "Bye.")]
