"""The weakest passwords are refused, each with its own reason."""
import pytest

from wizard.auth.passwords import weakness

COMMON = "This password is one of the most common ones. Choose another."
EMAIL = "Don't use your email address in the password."
PRODUCT = "Don't use the product's name in the password."
REPEATED = "This password only repeats the same few characters. Choose another."


@pytest.mark.parametrize("password, reason", [
    ("password1234", COMMON),
    ("Password1234", COMMON),
    ("123456789012", COMMON),
    ("qwertyuiop12", COMMON),
    ("1q2w3e4r5t6y", COMMON),
    ("iloveyou1234", COMMON),
    ("Welcome 12345", COMMON),
    ("boss@example.com", EMAIL),
    ("my Boss@Example.com pw", EMAIL),
    ("boss-is-the-best-2026", EMAIL),
    ("twilio123456", PRODUCT),
    ("MyTwilioSetup!", PRODUCT),
    ("messaging setup 1", PRODUCT),
    ("aaaaaaaaaaaa", REPEATED),
    ("abababababab", REPEATED),
    ("xyz!xyz!xyz!", REPEATED),
    ("            ", REPEATED),
])
def test_weak_passwords_are_refused_with_their_reason(password, reason):
    assert weakness(password, "boss@example.com") == reason


@pytest.mark.parametrize("password", [
    "correct horse battery", "a long enough password", "Xk2!vR9#qLm4", "aaaaaaaaaaab", "tw1l1o is fine here",
])
def test_ordinary_passwords_pass(password):
    assert weakness(password, "boss@example.com") is None


def test_a_short_local_part_is_not_searched_for():
    # "al" would refuse half the dictionary; the whole address still counts.
    assert weakness("a natural long password", "al@example.com") is None
    assert weakness("al@example.com 2026", "al@example.com") == EMAIL


def test_the_common_list_is_small_and_holds_only_passwords_long_enough_to_pass_the_length_rule():
    from wizard.auth.passwords import COMMON_PASSWORDS

    assert 100 <= len(COMMON_PASSWORDS) <= 1000
    assert all(len(p) >= 12 and p == p.casefold() and " " not in p for p in COMMON_PASSWORDS)
