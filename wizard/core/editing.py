"""Edits that never overwrite each other silently (optimistic locking): an edit form carries
the version its row had when the form was opened, and the update applies only while the
row still has that version. Otherwise the page shows what was saved meanwhile."""
from wizard.core.ids import id_or_none
from wizard.core.models import utcnow


class EditConflict(Exception):
    """Someone else saved the row after this form was opened."""


def opened_version(form) -> int:
    """The version the edit form was opened at (its hidden `version` field)."""
    version = id_or_none(form.version.data)
    return -1 if version is None else version  # a form without its version can only conflict


def check_unchanged(form, row) -> None:
    """Raise EditConflict now, before anything slow (Twilio) is asked, if the row was saved since."""
    if opened_version(form) != row.version:
        raise EditConflict()


def update_unchanged(form, row, values: dict) -> None:
    """Write values over row, with the next version, if nobody saved it since the form was opened.
    Call it inside the transaction that holds the rest of the edit."""
    model = type(row)
    values = {**values, model.version: model.version + 1}
    if "updated_at" in model._meta.fields:
        values[model.updated_at] = utcnow()
    if not model.update(values).where(model.id == row.id, model.version == opened_version(form)).execute():
        raise EditConflict()


def saved_meanwhile(form, row):
    """The row as someone else saved it. The form now carries that version, so saving the
    form again overwrites what was saved, knowingly."""
    current = type(row).get_by_id(row.id)
    form.version.data = str(current.version)
    return current
