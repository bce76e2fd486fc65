"""Row ids and page numbers as requests give them: whole numbers the database can hold.

A number too large for the database (SQLite's INTEGER and PostgreSQL's bigint stop at
2**63 - 1) names no row: it is refused here, as a 404 or an absent value, before a query
would fail on it."""
import re

from flask import abort
from werkzeug.routing import IntegerConverter

LARGEST_ID = 2**63 - 1


LAST_PAGE = 10**9  # far past any list's end, and (page - 1) * page size stays a database integer


DIGITS = re.compile(r"[0-9]{1,19}")


PAGE = re.compile(r"[0-9]+")


def row_id(text) -> int:
    """An id from a URL, a query argument, a form or a draft: ASCII digits within LARGEST_ID, else
    ValueError. As `request.args.get(name, type=row_id)`, anything else is read as absent."""
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str) or not DIGITS.fullmatch(text) or int(text) > LARGEST_ID:
        raise ValueError(f"not a row id: {text!r}")
    return int(text)


def page_number(args, last: int = LAST_PAGE) -> int:
    """The `page` query argument: 1 when it is missing or not a page number; past `last`, a 404."""
    text = args.get("page", "")
    if not PAGE.fullmatch(text):
        return 1
    if len(text) > len(str(last)) or int(text) > last:
        abort(404)
    return max(int(text), 1)


def id_or_none(text) -> int | None:
    """The id a form field or argument holds, or None when it holds none."""
    try:
        return row_id(text)
    except ValueError:
        return None


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: ASCII digits up to LARGEST_ID, else the route doesn't match (404)."""

    regex = r"[0-9]+"

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(map, *args, **kwargs)
