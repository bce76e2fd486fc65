"""The audit log: who created, changed or deleted which configuration object, and when."""
from flask import Blueprint, request
from flask_babel import lazy_gettext as _l

from wizard.core.db import all_models
from wizard.core.ids import page_number, row_id
from wizard.core.models import AuditEntry
from wizard.shell.pages import render

bp = Blueprint("audit", __name__, url_prefix="/audit")


PAGE_SIZE = 50


# Stored values that are states, named in the reader's language (by field name).
STATE_NAMES = {
    "verification_state": {"verified": _l("Verified"), "failed": _l("Failed"), "never": _l("Never verified")},
    "status": {"draft": _l("Draft"), "active": _l("Active")},
}


def shown_value(field: str, value):
    """A changed field's old or new value as the log shows it: states and yes/no named, none as —."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _l("yes") if value else _l("no")
    if isinstance(value, str):
        return STATE_NAMES.get(field, {}).get(value, value)
    return value  # lists and mappings (header rows, webhook URLs) as stored


@bp.route("")
def index():
    query = AuditEntry.select().order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    object_type = request.args.get("object_type", "")
    object_id = request.args.get("object_id", type=row_id)
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
    page = page_number(request.args)
    entries = list(query.paginate(page, PAGE_SIZE + 1))
    types = [row.object_type for row in
             AuditEntry.select(AuditEntry.object_type).distinct().order_by(AuditEntry.object_type)]
    kinds = object_kinds()
    return render(
        "audit/index.html",
        "audit/_entries.html",
        entries=entries[:PAGE_SIZE],
        has_more=len(entries) > PAGE_SIZE,
        page=page,
        object_type=object_type,
        object_id=object_id,
        object_types=types,
        kinds=kinds,
        shown_value=shown_value,
    )


def object_kinds() -> dict:
    """Model class name -> the object's name in the reader's language."""
    return {model.__name__: model.kind for model in all_models() if hasattr(model, "kind")}
