"""Sessions live on the server: signing out, removing an admin, changing the password and
"Sign out everywhere" end them, whatever cookie a browser kept; they also expire there."""
import datetime

from tests.support.app import ADMIN_EMAIL, ADMIN_PASSWORD, create_admin, sign_in_client
from tests.support.html import field_error, text
from wizard.core.models import AdminSession, AuditEntry, User, utcnow

NEW_PASSWORD = "a brand new passphrase"


def session_cookie(client):
    return client.get_cookie("session").value


def put_back(client, value):
    client.set_cookie("session", value)


def is_signed_in(client):
    response = client.get("/sandboxes")
    if response.status_code == 200:
        return True
    assert response.status_code == 303 and response.headers["Location"] == "/login?next=/sandboxes"
    return False


def test_a_cookie_saved_before_signing_out_no_longer_signs_in(signed_in):
    saved = session_cookie(signed_in)
    assert signed_in.post("/logout").status_code == 303
    put_back(signed_in, saved)
    assert not is_signed_in(signed_in)


def test_removing_an_admin_ends_every_one_of_their_sessions(signed_in, app, in_app):
    create_admin(app, "second@example.com")
    laptop, phone = sign_in_client(app, "second@example.com"), sign_in_client(app, "second@example.com")
    with in_app():
        second = User.get(User.email == "second@example.com")
    signed_in.get("/admins")
    assert signed_in.post(f"/admins/{second.id}/delete").status_code == 303
    assert not is_signed_in(laptop)
    assert not is_signed_in(phone)
    assert is_signed_in(signed_in)  # the admin who removed them stays signed in
    with in_app():
        assert AdminSession.select().where(AdminSession.user == second.id).count() == 0


def test_a_new_admin_never_inherits_the_cookie_of_a_removed_one(signed_in, app, in_app):
    create_admin(app, "leaver@example.com")
    leaver = sign_in_client(app, "leaver@example.com")
    saved = session_cookie(leaver)
    with in_app():
        leaver_id = User.get(User.email == "leaver@example.com").id
    signed_in.get("/admins")
    signed_in.post(f"/admins/{leaver_id}/delete")
    signed_in.get("/admins")
    signed_in.post("/admins", {"email": "newcomer@example.com", "password": "newcomer long passphrase"})
    put_back(leaver, saved)
    page = leaver.get("/", follow_redirects=True)
    assert "newcomer@example.com" not in text(page)
    assert not is_signed_in(leaver)


def test_signing_in_again_starts_a_new_session_the_old_cookie_stays_dead(client, admin):
    client.get("/login")
    client.post("/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    first = session_cookie(client)
    client.get("/sandboxes")  # a page, and its CSRF token
    assert client.post("/logout").status_code == 303
    client.get("/login")
    client.post("/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert session_cookie(client) != first
    assert is_signed_in(client)
    put_back(client, first)
    assert not is_signed_in(client)


def test_the_account_menu_leads_to_the_account_page(signed_in):
    page = text(signed_in.get("/sandboxes"))
    assert '<li><a href="/account">Your account</a></li>' in page
    account = text(signed_in.get("/account"))
    assert "<h1>Your account</h1>" in account
    assert '<label for="current_password">Current password</label>' in account
    assert '<label for="new_password">New password</label>' in account
    assert '<label for="confirm_password">New password again</label>' in account
    assert "You are signed in on 1 browser." in account
    assert ">Sign out everywhere</button>" in account


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(signed_in, app, in_app):
    other = sign_in_client(app)
    saved_here = session_cookie(signed_in)
    assert "You are signed in on 2 browsers." in text(signed_in.get("/account"))
    response = signed_in.post("/account/password", {"current_password": ADMIN_PASSWORD,
                                                    "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    page = text(signed_in.get("/account"))
    assert "Your password is changed. Your other sessions are signed out." in page
    assert "You are signed in on 1 browser." in page
    assert not is_signed_in(other)
    assert is_signed_in(signed_in)
    put_back(signed_in, saved_here)  # this browser got a new session key: the old cookie is dead too
    assert not is_signed_in(signed_in)
    with in_app():
        me = User.get(User.email == ADMIN_EMAIL)
        assert me.check_password(NEW_PASSWORD) and not me.check_password(ADMIN_PASSWORD)
        entry = AuditEntry.select().order_by(AuditEntry.id.desc()).get()
        assert (entry.action, entry.object_label, entry.changed_fields) == (
            "update", ADMIN_EMAIL, {"password": "(secret changed)"})
    signed_in.get("/login")
    assert signed_in.post("/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).status_code == 401
    assert signed_in.post("/login", {"email": ADMIN_EMAIL, "password": NEW_PASSWORD}).status_code == 303


def test_changing_the_password_with_htmx_swaps_the_section(signed_in, app):
    other = sign_in_client(app)
    signed_in.get("/account")
    response = signed_in.post("/account/password", {"current_password": ADMIN_PASSWORD,
                                                    "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
                              htmx=True)
    assert response.status_code == 200
    page = text(response)
    assert page.lstrip().startswith('<section id="account-section"')
    assert "Your password is changed. Your other sessions are signed out." in page
    assert "You are signed in on 1 browser." in page
    assert NEW_PASSWORD not in page
    assert not is_signed_in(other)


def test_a_wrong_current_password_or_a_mismatch_changes_nothing(signed_in, app, in_app):
    other = sign_in_client(app)
    signed_in.get("/account")
    for htmx in (False, True):
        response = signed_in.post("/account/password", {"current_password": "not my password",
                                                        "new_password": NEW_PASSWORD,
                                                        "confirm_password": NEW_PASSWORD}, htmx=htmx)
        assert response.status_code == 422
        assert field_error(text(response), "current_password") == "This is not your current password."
        response = signed_in.post("/account/password", {"current_password": ADMIN_PASSWORD,
                                                        "new_password": NEW_PASSWORD,
                                                        "confirm_password": NEW_PASSWORD + "x"}, htmx=htmx)
        assert response.status_code == 422
        assert field_error(text(response), "confirm_password") == "The two new passwords are not the same."
        response = signed_in.post("/account/password", {"current_password": ADMIN_PASSWORD,
                                                        "new_password": "short", "confirm_password": "short"},
                                  htmx=htmx)
        assert field_error(text(response), "new_password") == "Use at least 12 characters."
        response = signed_in.post("/account/password", {"current_password": ADMIN_PASSWORD,
                                                        "new_password": "password1234",
                                                        "confirm_password": "password1234"}, htmx=htmx)
        assert field_error(text(response), "new_password") == (
            "This password is one of the most common ones. Choose another.")
    assert is_signed_in(other)
    with in_app():
        assert User.get(User.email == ADMIN_EMAIL).check_password(ADMIN_PASSWORD)


def test_sign_out_everywhere_ends_every_session_of_the_admin(signed_in, app, in_app):
    create_admin(app, "colleague@example.com")
    colleague = sign_in_client(app, "colleague@example.com")
    other = sign_in_client(app)
    saved = session_cookie(signed_in)
    signed_in.get("/account")
    response = signed_in.post("/account/sign-out-everywhere")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert "You are signed out everywhere." in text(signed_in.get("/login"))
    assert not is_signed_in(signed_in)
    assert not is_signed_in(other)
    put_back(signed_in, saved)
    assert not is_signed_in(signed_in)
    assert is_signed_in(colleague)  # another admin's sessions are theirs


def test_sign_out_everywhere_with_htmx_loads_the_sign_in_page(signed_in):
    signed_in.get("/account")
    response = signed_in.post("/account/sign-out-everywhere", htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/login"
    assert not is_signed_in(signed_in)


def test_a_session_ends_on_the_server_after_being_idle_too_long(signed_in, app, in_app):
    with in_app():
        idle = datetime.timedelta(seconds=app.config["SESSION_IDLE_SECONDS"])
        AdminSession.update(last_seen_at=utcnow() - idle - datetime.timedelta(minutes=1)).execute()
    assert not is_signed_in(signed_in)


def test_a_session_ends_on_the_server_after_its_lifetime_even_when_used(signed_in, app, in_app):
    with in_app():
        lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
        AdminSession.update(created_at=utcnow() - lifetime - datetime.timedelta(minutes=1)).execute()
    assert not is_signed_in(signed_in)


def test_a_used_session_is_kept_alive_and_its_last_use_recorded(signed_in, app, in_app):
    with in_app():
        an_hour_ago = utcnow() - datetime.timedelta(hours=1)
        AdminSession.update(last_seen_at=an_hour_ago).execute()
    assert is_signed_in(signed_in)
    with in_app():
        assert AdminSession.get().last_seen_at > an_hour_ago + datetime.timedelta(minutes=59)


def test_session_keys_are_random_and_stored_only_as_a_hash(signed_in, app, in_app):
    other = sign_in_client(app)
    with in_app():
        keys = [row.key_hash for row in AdminSession.select()]
    assert len(keys) == 2 and len(set(keys)) == 2
    for client in (signed_in, other):
        cookie = session_cookie(client)
        assert all(key not in cookie for key in keys)
