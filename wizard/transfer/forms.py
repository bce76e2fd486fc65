"""The import's forms: the file to upload, and the one form that asks for every secret it needs."""
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, PasswordField

MAX_FILE = 256 * 1024  # bytes; an export of a sandbox is a few kilobytes


class UploadForm(FlaskForm):
    file = FileField(_l("Export file"), description=_l("A .json file exported from a sandbox, here or on another "
                                                        "installation; at most 256 KB."))


def secrets_form_class(items):
    """A form with the file (posted again, checked again) and a write-only field for each secret
    the import asks for. Labels carry names admins typed: gettext, never a lazy (safe) string."""

    class ImportSecretsForm(FlaskForm):
        document = HiddenField()

    for item in items:
        for secret in item.secrets:
            setattr(ImportSecretsForm, secret.field, PasswordField(
                gettext("%(secret)s for %(name)s", secret=secret.label, name=item.name),
                description=gettext("Leave it blank to keep the stored one.") if secret.kept else None))
    return ImportSecretsForm
