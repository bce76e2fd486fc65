"""JSON that people and providers send (payload templates, webhook samples, JWT claims, the custom
receiver's bodies), parsed with a depth limit.

Python's parser recurses once per level: a few kilobytes of [[[[... raise RecursionError, and so
would every walk over the result. Here the nesting is measured first, without recursion, and
anything deeper than MAX_DEPTH is refused with its place, like any other JSON error."""
import json
import re

from flask_babel import gettext as _

MAX_DEPTH = 32  # levels of objects and arrays; real provider payloads use fewer than ten


# A string literal (possibly unterminated, to the end), or one bracket.
TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.S)


class TooDeep(json.JSONDecodeError):
    """JSON nested deeper than MAX_DEPTH. A JSONDecodeError (so a ValueError), with the line and
    column of the first bracket too many."""


def check_depth(text: str, limit: int = MAX_DEPTH) -> None:
    """Raise TooDeep when the text opens more than `limit` objects or arrays inside each other."""
    if text.count("[") + text.count("{") <= limit:
        return  # can't be that deep: the usual case costs two counts
    depth = 0
    for match in TOKENS.finditer(text):
        token = match.group(0)
        if token == "[" or token == "{":
            depth += 1
            if depth > limit:
                raise TooDeep(f"nested deeper than {limit} levels", text, match.start())
        elif token == "]" or token == "}":
            depth -= 1


def loads(text: str):
    """json.loads, refusing JSON nested deeper than MAX_DEPTH (TooDeep, a JSONDecodeError)."""
    check_depth(text)
    return json.loads(text)


def problem(error: json.JSONDecodeError) -> str:
    """What is wrong with the JSON, for the message beside its field."""
    if isinstance(error, TooDeep):
        return _("The JSON is nested more than %(limit)s levels deep (at line %(line)s, column %(column)s): "
                 "at most %(limit)s levels of objects and lists are allowed.",
                 limit=MAX_DEPTH, line=error.lineno, column=error.colno)
    return _("This is not valid JSON: %(reason)s at line %(line)s, column %(column)s.",
             reason=error.msg, line=error.lineno, column=error.colno)
