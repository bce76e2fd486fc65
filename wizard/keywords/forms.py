"""The keyword rule and keyword settings forms."""
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from wizard.messaging.keywords import CATEGORY_LABELS, normalize
from wizard.shell.fields import invisible_problem, strip

MAX_KEYWORD = 32


MAX_REPLY = 1600  # Twilio's limit for one message body


MAX_KEYWORDS_TEXT = 2000


# Commas and spaces separate keywords, the full-width and ideographic commas too (typed with CJK input).
KEYWORD_SEPARATORS = re.compile(r"[\s,，、;；]+")


REPLY_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # line breaks and tabs are fine


def parse_keywords(text: str) -> list[str]:
    """Keywords as stored: upper-cased, each once, in the order typed."""
    found = {}
    for word in KEYWORD_SEPARATORS.split(text or ""):
        if word:
            found.setdefault(normalize(word), word.upper())
    return list(found.values())


def _reply_length_and_characters(form, field):
    value = field.data or ""
    if len(value) > MAX_REPLY:
        raise ValidationError(_l("A reply has at most 1600 characters (this one has %(count)s).", count=len(value)))
    if REPLY_CONTROL_CHARACTERS.search(value):
        raise ValidationError(_l("A reply cannot contain control characters other than line breaks."))


class KeywordRuleForm(FlaskForm):
    category = SelectField(_l("Category"), choices=[SelectChoice(k, v) for k, v in CATEGORY_LABELS.items()],
                           validate_choice=False)
    keywords = StringField(_l("Keywords"), filters=[strip], description=_l(
        "Separate keywords with commas or spaces, e.g. STOP, 退訂. Case, surrounding spaces and punctuation don't "
        "matter; up to 32 characters each."))
    reply = TextAreaField(_l("Reply"), filters=[strip], validators=[_reply_length_and_characters], description=_l(
        "The answer, in any language, up to 1600 characters. Leave it empty to send no reply."))
    version = HiddenField()  # the version the edit form was opened at

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
        problem = next(filter(None, (invisible_problem(keyword, _l("A keyword")) for keyword in keywords)), None)
        if problem:
            raise ValidationError(problem)
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
    default_reply = TextAreaField(_l("Default reply"), filters=[strip], validators=[_reply_length_and_characters],
                                  description=_l("Sent to a message that matches no keyword. Leave it empty to send "
                                                 "no reply."))
    fuzzy_opt_out = BooleanField(_l("Fuzzy opt-out"), description=_l(
        "Also count near misses as opt-out: a typo of an opt-out keyword of four or more letters (“stopp”), or an "
        "opt-out keyword followed by other words (“Stop please”)."))
    fuzzy_reply = TextAreaField(_l("Reply to a fuzzy opt-out"), filters=[strip],
                                description=_l("Sent after a fuzzy opt-out. Leave it empty to send no reply."),
                                validators=[_reply_length_and_characters])
    advanced_opt_out = BooleanField(_l("Twilio Advanced Opt-Out handles standard keywords"), description=_l(
        "Turn this on when Advanced Opt-Out is enabled on the Messaging Service: Twilio then answers the standard "
        "keywords (STOP, START, HELP and the others) itself, so consent is still recorded here but no second reply "
        "is sent."))
    version = HiddenField()  # the version the form was opened at
