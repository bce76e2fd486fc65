"""Sandboxes: create, rename, delete (refused while used), switch, and what the audit log keeps."""
import peewee
import pytest

from tests.support.app import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.html import field_error, text
from wizard.core.db import BaseModel, database
from wizard.core.models import AuditEntry, Sandbox


def sandbox_named(app, name):
    with app.app_context(), database.connection_context():
        return Sandbox.get_or_none(Sandbox.name == name)


def test_prod_exists_from_the_start(signed_in):
    page = text(signed_in.get("/sandboxes"))
    assert '<option value="1" selected>prod</option>' in page


def test_create_a_sandbox(signed_in, app):
    signed_in.get("/sandboxes")
    response = signed_in.post("/sandboxes", {"name": "  dev  "})
    assert response.status_code == 303
    assert "Sandbox dev created." in text(signed_in.get("/sandboxes"))
    assert sandbox_named(app, "dev") is not None


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "Enter a name for the sandbox."),
        ("   ", "Enter a name for the sandbox."),
        ("x" * 65, "A sandbox name has at most 64 characters."),
        ("PROD", "A sandbox with this name already exists."),
        ("bad\x07name", "A sandbox name cannot contain control characters."),
    ],
)
def test_bad_sandbox_names_get_an_error_next_to_the_field(signed_in, name, message, in_app):
    signed_in.get("/sandboxes")
    for htmx in (False, True):
        response = signed_in.post("/sandboxes", {"name": name}, htmx=htmx)
        assert response.status_code == 422
        assert field_error(text(response), "name") == message
    with in_app():
        assert Sandbox.select().count() == 1


def test_a_name_of_64_characters_is_fine(signed_in, app):
    signed_in.get("/sandboxes")
    assert signed_in.post("/sandboxes", {"name": "y" * 64}).status_code == 303


def test_names_with_html_are_shown_escaped(signed_in):
    signed_in.get("/sandboxes")
    signed_in.post("/sandboxes", {"name": "<script>alert(1)</script>"})
    page = text(signed_in.get("/sandboxes"))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_rename_inline_with_htmx_and_with_a_plain_form(signed_in, app):
    signed_in.get("/sandboxes")
    signed_in.post("/sandboxes", {"name": "dev"})
    dev = sandbox_named(app, "dev")
    form = signed_in.htmx_get(f"/sandboxes/{dev.id}/edit")
    assert f'<tr id="sandbox-{dev.id}">' in text(form) and "<html" not in text(form)
    row = signed_in.post(f"/sandboxes/{dev.id}", {"name": "staging", "version": "1"}, htmx=True)
    assert row.status_code == 200
    assert "staging" in text(row) and "<html" not in text(row)
    assert "Sandbox renamed to staging." in text(row)  # carried out of band into the page's messages
    # Without JavaScript: the sandbox's own page, then a redirect to the list.
    assert "<h1>Sandbox staging</h1>" in text(signed_in.get(f"/sandboxes/{dev.id}"))
    response = signed_in.post(f"/sandboxes/{dev.id}", {"name": "qa", "version": "2"})
    assert response.status_code == 303
    assert sandbox_named(app, "qa") is not None
    changes = [e.changed_fields for e in _audit(app, "Sandbox") if e.action == "update"]
    assert changes == [{"name": ["staging", "qa"]}, {"name": ["dev", "staging"]}]


def test_a_failed_inline_rename_keeps_what_was_typed(signed_in, app):
    signed_in.get("/sandboxes")
    signed_in.post("/sandboxes", {"name": "dev"})
    dev = sandbox_named(app, "dev")
    response = signed_in.post(f"/sandboxes/{dev.id}", {"name": "Prod", "version": "1"}, htmx=True)
    assert response.status_code == 422
    assert 'value="Prod"' in text(response)
    assert "A sandbox with this name already exists." in text(response)
    assert sandbox_named(app, "dev") is not None


def test_delete_a_sandbox_after_confirmation(signed_in, app):
    signed_in.get("/sandboxes")
    signed_in.post("/sandboxes", {"name": "dev"})
    dev = sandbox_named(app, "dev")
    assert "Delete sandbox dev?" in text(signed_in.get(f"/sandboxes/{dev.id}/delete"))
    response = signed_in.post(f"/sandboxes/{dev.id}/delete")
    assert response.status_code == 303
    assert "Sandbox dev deleted." in text(signed_in.get("/sandboxes"))
    assert sandbox_named(app, "dev") is None
    assert [e.action for e in _audit(app, "Sandbox")] == ["delete", "create"]


def test_the_only_sandbox_cannot_be_deleted(signed_in, app):
    prod = sandbox_named(app, "prod")
    assert "is the only one" in text(signed_in.get(f"/sandboxes/{prod.id}/delete"))
    signed_in.post(f"/sandboxes/{prod.id}/delete")
    assert "Sandbox prod is the only one; keep at least one sandbox." in text(signed_in.get("/sandboxes"))
    assert sandbox_named(app, "prod") is not None


@pytest.fixture
def something_that_uses_sandboxes(in_app):
    """A table with a foreign key to Sandbox, as later configuration objects have."""

    class Widget(BaseModel):
        name = peewee.CharField()
        sandbox = peewee.ForeignKeyField(Sandbox, on_delete="RESTRICT")
        kind = "Widget"

        def __str__(self):
            return self.name

    with in_app():
        database.create_tables([Widget])
    yield Widget
    Widget._meta.remove_ref(Widget.sandbox)  # the model is this test's only


def test_a_sandbox_in_use_cannot_be_deleted_and_the_refusal_names_the_user(
    signed_in, app, something_that_uses_sandboxes
, in_app):
    signed_in.get("/sandboxes")
    signed_in.post("/sandboxes", {"name": "dev"})
    dev = sandbox_named(app, "dev")
    with in_app():
        something_that_uses_sandboxes.create(name="Spring sale", sandbox=dev)
    response = signed_in.post(f"/sandboxes/{dev.id}/delete")
    assert response.status_code == 303
    assert "Sandbox dev is in use and cannot be deleted. Used by: Widget “Spring sale”." in text(
        signed_in.get("/sandboxes"))
    assert sandbox_named(app, "dev") is not None
    assert "Widget “Spring sale”" in text(signed_in.get(f"/sandboxes/{dev.id}"))


def test_switching_sandbox_survives_reloads_and_new_sign_ins(signed_in, app, client):
    signed_in.get("/sandboxes")
    signed_in.post("/sandboxes", {"name": "dev"})
    dev = sandbox_named(app, "dev")
    response = signed_in.post("/sandboxes/current", {"sandbox": dev.id, "next": "/audit"})
    assert response.headers["Location"] == "/audit"
    page = text(signed_in.get("/audit"))
    assert f'<option value="{dev.id}" selected>dev</option>' in page
    assert "You are now working in sandbox dev." in page
    assert f'<option value="{dev.id}" selected>dev</option>' in text(signed_in.get("/sandboxes"))
    signed_in.post("/logout")
    signed_in.get("/login")
    signed_in.post("/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert f'<option value="{dev.id}" selected>dev</option>' in text(signed_in.get("/sandboxes"))


def test_switching_to_a_sandbox_that_is_gone(signed_in):
    signed_in.get("/sandboxes")
    response = signed_in.post("/sandboxes/current", {"sandbox": 999, "next": "/sandboxes"})
    assert "That sandbox no longer exists." in text(signed_in.get(response.headers["Location"]))


def test_unknown_sandbox_pages_are_404(signed_in):
    assert signed_in.get("/sandboxes/999").status_code == 404
    assert signed_in.get("/sandboxes/999/delete").status_code == 404


def _audit(app, object_type):
    with app.app_context(), database.connection_context():
        return list(AuditEntry.select().where(AuditEntry.object_type == object_type)
                    .order_by(AuditEntry.id.desc()))


def test_a_rename_over_someone_elses_rename_is_a_conflict_that_keeps_the_input(signed_in, app):
    signed_in.get("/sandboxes")
    signed_in.post("/sandboxes", {"name": "dev"})
    dev = sandbox_named(app, "dev")
    opened = text(signed_in.htmx_get(f"/sandboxes/{dev.id}/edit"))
    assert 'name="version" type="hidden" value="1"' in opened
    assert signed_in.post(f"/sandboxes/{dev.id}", {"name": "staging", "version": "1"}).status_code == 303
    for htmx in (True, False):  # the same old form, saved again
        mine = signed_in.post(f"/sandboxes/{dev.id}", {"name": "qa", "version": "1"}, htmx=htmx)
        assert mine.status_code == 409
        page = text(mine)
        assert "Someone else saved this after you opened it. Nothing of yours was saved" in page
        assert "<li>Name: staging</li>" in page
        assert 'value="qa"' in page and 'name="version" type="hidden" value="2"' in page
    assert sandbox_named(app, "staging") is not None and sandbox_named(app, "qa") is None
    assert signed_in.post(f"/sandboxes/{dev.id}", {"name": "qa", "version": "2"}).status_code == 303
    assert sandbox_named(app, "qa") is not None
