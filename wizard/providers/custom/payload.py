"""A custom provider's payload template (JSON or form-encoded): its checks, and the body it renders."""
import bisect
import json
import re
from dataclasses import dataclass, field
from urllib.parse import unquote_plus, urlencode

from flask_babel import gettext as _
from flask_babel import ngettext

from wizard.core import json_text
from wizard.providers.custom.settings import (
    CONTENT_TYPES,
    MAX_PAYLOAD,
    OPTIONAL_PLACEHOLDERS,
    REQUIRED_PLACEHOLDERS,
    STAND_INS,
    ProviderError,
)
from wizard.providers.custom.shape import PLACEHOLDER
from wizard.shell.i18n import joined


@dataclass
class TemplateCheck:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def placeholder(name: str) -> str:
    return "{{" + name + "}}"


def _line_and_column(text: str, position: int) -> tuple[int, int]:
    return text.count("\n", 0, position) + 1, position - text.rfind("\n", 0, position)


def _json_strings(text: str) -> list[tuple[int, int]]:
    """Each string literal's opening and closing quote offsets. Scanned rather than parsed, so
    that it works on broken JSON too; an unterminated string runs to the end."""
    spans, i, n = [], 0, len(text)
    while i < n:
        if text[i] == '"':
            start, i = i, i + 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            spans.append((start, min(i, n)))
        i += 1
    return spans


def _in_string(spans: list[tuple[int, int]], starts: list[int], match: re.Match) -> bool:
    index = bisect.bisect_right(starts, match.start()) - 1
    return index >= 0 and spans[index][0] < match.start() and match.end() <= spans[index][1]


def _json_template_errors(template: str) -> list[str]:
    spans = _json_strings(template)
    starts = [start for start, _end in spans]
    errors, probe, last = [], [], 0
    for match in PLACEHOLDER.finditer(template):
        probe.append(template[last:match.start()])
        length = match.end() - match.start()
        if _in_string(spans, starts, match):
            probe.append("x" * length)  # same length, so line and column stay the template's
        else:
            line, column = _line_and_column(template, match.start())
            errors.append(_("%(placeholder)s at line %(line)s, column %(column)s is outside a string: put it "
                            "in quotes, like \"%(placeholder)s\".", placeholder=match.group(0), line=line,
                            column=column))
            probe.append("null".ljust(length))
        last = match.end()
    probe.append(template[last:])
    try:
        json_text.loads("".join(probe))
    except json.JSONDecodeError as error:
        errors.append(json_text.problem(error))
    return errors


def _form_pieces(template: str) -> list[tuple[int, str]]:
    """The template's name=value pairs, split on & and line breaks, with where each starts."""
    pieces = []
    for match in re.finditer(r"[^&\n]+", template):
        text = match.group(0).strip()
        if text:
            pieces.append((match.start() + match.group(0).index(text), text))
    return pieces


def _form_template_errors(template: str) -> list[str]:
    errors = []
    for position, piece in _form_pieces(template):
        line, column = _line_and_column(template, position)
        name, equals, _value = piece.partition("=")
        if not equals:
            errors.append(_("“%(piece)s” at line %(line)s, column %(column)s has no =: write each field as "
                            "name=value.", piece=piece, line=line, column=column))
        elif not name.strip():
            errors.append(_("A field at line %(line)s, column %(column)s has no name before =.",
                            line=line, column=column))
        elif PLACEHOLDER.search(name):
            errors.append(_("The field name %(name)s at line %(line)s is a placeholder: placeholders go in "
                            "values, after =.", name=name.strip(), line=line))
    return errors


def _form_fields(template: str) -> dict[str, str]:
    """Field name -> raw value text, first of each name (names decoded)."""
    fields = {}
    for _position, piece in _form_pieces(template):
        name, equals, value = piece.partition("=")
        if equals:
            fields.setdefault(unquote_plus(name.strip()), value)
    return fields


def _stood_in(template: str, payload_format: str) -> set[str]:
    """The required placeholders a Twilio field carries instead (see STAND_INS)."""
    if payload_format != "form":
        return set()
    fields = _form_fields(template)
    return {name for name, field_name in STAND_INS.items() if fields.get(field_name, "").strip()}


def payload_help(template: str, payload_format: str) -> str:
    """The payload field's help for what is typed: the placeholders it must contain, less those a
    Twilio field carries instead (the Twilio RCS preset has MessagingServiceSid, no {{fromNumber}})."""
    stood_in = _stood_in(template or "", payload_format)
    if not stood_in:
        return _("Must contain {{fromNumber}}, {{toNumber}} and {{message}}; other {{placeholders}} are allowed.")
    needed = [placeholder(name) for name in REQUIRED_PLACEHOLDERS if name not in stood_in]
    carried = " ".join(_("%(placeholder)s is not needed: %(field)s carries it.", placeholder=placeholder(name),
                         field=STAND_INS[name]) for name in REQUIRED_PLACEHOLDERS if name in stood_in)
    return _("Must contain %(placeholders)s; other {{placeholders}} are allowed.",
             placeholders=_(" and ").join(needed)) + " " + carried


def check_template(template: str, payload_format: str) -> TemplateCheck:
    """Errors (the template can't be used) and warnings (it can, but something looks off)."""
    template = template or ""
    size = len(template.encode("utf-8"))
    if size > MAX_PAYLOAD:
        return TemplateCheck([_("A provider payload has at most 64 KB; this one has %(size)s KB.",
                                size=(size + 1023) // 1024)])
    if not template.strip():
        return TemplateCheck([_("Enter the provider payload, with the placeholders {{fromNumber}}, "
                                "{{toNumber}} and {{message}} where the values go.")])
    if payload_format == "json":
        errors = _json_template_errors(template)
    elif payload_format == "form":
        errors = _form_template_errors(template)
    else:
        return TemplateCheck([_("Choose JSON or form-encoded.")])
    used = list(dict.fromkeys(match.group(1) for match in PLACEHOLDER.finditer(template)))
    stood_in = _stood_in(template, payload_format)
    missing = [name for name in REQUIRED_PLACEHOLDERS if name not in used and name not in stood_in]
    if missing:
        errors.append(ngettext("%(placeholders)s is missing: put it where the provider expects that value.",
                               "%(placeholders)s are missing: put each where the provider expects that value.",
                               len(missing), placeholders=joined(map(placeholder, missing))))
    unknown = [name for name in used if name not in REQUIRED_PLACEHOLDERS + OPTIONAL_PLACEHOLDERS]
    warnings = [ngettext("%(placeholders)s is not a value the platform fills in: it is sent empty.",
                         "%(placeholders)s are not values the platform fills in: they are sent empty.",
                         len(unknown), placeholders=joined(map(placeholder, unknown)))] if unknown else []
    return TemplateCheck(errors, warnings)


def _fill(text: str, values: dict, escape) -> str:
    return PLACEHOLDER.sub(lambda match: escape(str(values.get(match.group(1), ""))), text)


def render_payload(template: str, payload_format: str, values: dict) -> tuple[bytes, str]:
    """The body with each placeholder replaced by its value, escaped for the format, and its
    Content-Type. Placeholders without a value are sent empty. Raises ProviderError for a
    template that check_template refuses, or a body over 64 KB."""
    check = check_template(template, payload_format)
    if check.errors:
        raise ProviderError(_("The provider payload cannot be used: %(problems)s",
                              problems=" ".join(check.errors)))
    if payload_format == "json":
        # Inside a JSON string a value is JSON-escaped: quotes and line breaks can't break out.
        body = _fill(template, values, lambda value: json.dumps(value, ensure_ascii=False)[1:-1])
    else:
        pairs = []
        for _position, piece in _form_pieces(template):
            name, _equals, raw = piece.partition("=")
            # The literal text is form-encoded already; a value goes in as typed, encoded once below.
            value = "".join(unquote_plus(part) if index % 2 == 0 else str(values.get(part, ""))
                            for index, part in enumerate(PLACEHOLDER.split(raw)))
            pairs.append((unquote_plus(name.strip()), value))
        body = urlencode(pairs)
    data = body.encode("utf-8")
    if len(data) > MAX_PAYLOAD:
        raise ProviderError(_("The request body would have %(size)s KB; a provider payload has at most 64 KB.",
                              size=(len(data) + 1023) // 1024))
    return data, CONTENT_TYPES[payload_format]
