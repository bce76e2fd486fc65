"""Admin accounts: first run, sign in and out, the rate limit, adding and removing admins."""
import datetime
import re

from tests.support.app import ADMIN_EMAIL, ADMIN_PASSWORD, create_admin
from tests.support.html import field_error, text
from wizard.core.models import AuditEntry, SignInAttempts, User


def test_every_page_leads_to_first_run_while_no_admin_exists(client):
    for path in ("/", "/sandboxes", "/audit", "/login"):
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["Location"].endswith("/first-run")
    page = text(client.get("/first-run"))
    assert "<h1>Create the first admin account</h1>" in page
    assert '<label for="email">Email</label>' in page
    assert '<label for="password">Password</label>' in page


def test_first_run_refuses_a_short_password_and_keeps_the_email(client, in_app):
    client.get("/first-run")
    response = client.post("/first-run", {"email": "boss@example.com", "password": "short"})
    assert response.status_code == 422
    page = text(response)
    assert field_error(page, "password") == "Use at least 12 characters."
    assert 'value="boss@example.com"' in page
    with in_app():
        assert User.select().count() == 0


def test_first_run_and_adding_an_admin_refuse_the_weakest_passwords(client, app, in_app):
    client.get("/first-run")
    for password, message in [
        ("password1234", "This password is one of the most common ones. Choose another."),
        ("boss@example.com!", "Don't use your email address in the password."),
        ("twilio setup 2026", "Don't use the product's name in the password."),
        ("abcabcabcabc", "This password only repeats the same few characters. Choose another."),
    ]:
        response = client.post("/first-run", {"email": "boss@example.com", "password": password})
        assert response.status_code == 422
        assert field_error(text(response), "password") == message
        assert 'value="boss@example.com"' in text(response)
    with in_app():
        assert User.select().count() == 0
    client.post("/first-run", {"email": "boss@example.com", "password": "long enough password"})
    client.get("/admins")
    response = client.post("/admins", {"email": "second@example.com", "password": "second@example.com"}, htmx=True)
    assert response.status_code == 422
    assert field_error(text(response), "password") == "Don't use your email address in the password."
    assert 'value="second@example.com"' in text(response)
    with in_app():
        assert User.select().count() == 1


def test_first_run_refuses_a_bad_email(client):
    client.get("/first-run")
    response = client.post("/first-run", {"email": "not-an-email", "password": "long enough password"})
    assert response.status_code == 422
    assert field_error(text(response), "email") == "Enter an email address like name@example.com."


def test_first_run_creates_a_hashed_admin_signs_in_and_closes(client, in_app):
    client.get("/first-run")
    response = client.post("/first-run", {"email": "Boss@Example.com", "password": "long enough password"})
    assert response.status_code == 303
    home = client.get(response.headers["Location"], follow_redirects=True)
    assert "boss@example.com" in text(home)  # signed in: the account menu shows the email
    with in_app():
        user = User.get()
        assert user.email == "boss@example.com"
        assert "long enough password" not in user.password_hash
        assert user.check_password("long enough password")
        assert AuditEntry.get().action == "create"
    assert client.get("/first-run").headers["Location"].endswith("/login")


def test_passwords_hash_with_werkzeugs_default_unless_the_config_names_a_method(app):
    user = User(email="boss@example.com")
    user.set_password("long enough password")  # no app: werkzeug's default
    assert user.password_hash.startswith("scrypt:")
    with app.app_context():
        user.set_password("long enough password")  # the tests' cheap method
        assert user.password_hash.startswith("pbkdf2:sha256:1$")
        assert user.check_password("long enough password")
        del app.config["PASSWORD_HASH_METHOD"]
        user.set_password("long enough password")  # unset, as in production
        assert user.password_hash.startswith("scrypt:")
        assert user.check_password("long enough password")


def test_pages_need_a_signed_in_admin_and_login_returns_to_them(client, admin):
    response = client.get("/sandboxes")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=/sandboxes"
    client.get("/login?next=/sandboxes")
    response = client.post("/login?next=/sandboxes", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.headers["Location"] == "/sandboxes"
    assert client.get("/sandboxes").status_code == 200


def test_htmx_requests_of_a_signed_out_user_are_sent_to_login(client, admin):
    response = client.htmx_get("/sandboxes")
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login")


def test_login_never_redirects_off_site(client, admin):
    client.get("/login")
    response = client.post("/login?next=//evil.example/x", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.headers["Location"] == "/"


def test_wrong_password_gets_a_clear_message(client, admin):
    client.get("/login")
    response = client.post("/login", {"email": ADMIN_EMAIL, "password": "wrong password!"})
    assert response.status_code == 401
    assert "The email or password is not right." in text(response)
    assert f'value="{ADMIN_EMAIL}"' in text(response)


def test_failed_logins_are_rate_limited_per_client(client, app, admin, in_app):
    client.get("/login")
    for _ in range(5):
        assert client.post("/login", {"email": ADMIN_EMAIL, "password": "wrong password!"}).status_code == 401
    response = client.post("/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins from your address. Try again in 15 minutes." in text(response)
    # Another client is not blocked.
    other = app.test_client()
    page = text(other.get("/login", environ_base={"REMOTE_ADDR": "10.9.9.9"}))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = other.post("/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": token},
                          environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert response.status_code == 303
    # Once the failures are older than the window, the first client may sign in again.
    with in_app():
        long_ago = datetime.datetime.now() - datetime.timedelta(minutes=16)
        SignInAttempts.update(since=long_ago).execute()
    assert client.post("/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).status_code == 303


def test_logout_signs_out(signed_in):
    response = signed_in.post("/logout")
    assert response.headers["Location"] == "/login"
    assert "You are signed out." in text(signed_in.get("/login"))
    assert signed_in.get("/sandboxes").status_code == 303


def test_session_cookie_is_httponly_and_lax(client, admin):
    client.get("/login")
    response = client.post("/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_behind_https(config):
    from app import create_app

    app = create_app({**config, "PUBLIC_BASE_URL": "https://setup.example.com"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_an_admin_adds_and_removes_another_admin(signed_in, in_app):
    signed_in.get("/admins")
    response = signed_in.post("/admins", {"email": "second@example.com", "password": "another long pass"})
    assert response.status_code == 303
    page = text(signed_in.get("/admins"))
    assert "Admin second@example.com added." in page
    with in_app():
        second = User.get(User.email == "second@example.com")
    confirm = signed_in.get(f"/admins/{second.id}/delete")
    assert "Remove admin second@example.com?" in text(confirm)
    response = signed_in.post(f"/admins/{second.id}/delete", htmx=True)
    assert response.status_code == 200
    assert "second@example.com" not in text(response).split('id="flashes"')[0]
    assert "Admin second@example.com removed." in text(response)
    with in_app():
        assert not User.select().where(User.email == "second@example.com").exists()
        assert [e.action for e in AuditEntry.select().where(AuditEntry.object_label == "second@example.com")] == [
            "create", "delete"]


def test_adding_an_admin_refuses_duplicates_and_short_passwords(signed_in):
    signed_in.get("/admins")
    response = signed_in.post("/admins", {"email": ADMIN_EMAIL, "password": "another long pass"}, htmx=True)
    assert response.status_code == 422
    assert field_error(text(response), "email") == "An admin with this email already exists."
    response = signed_in.post("/admins", {"email": "x@example.com", "password": "short"}, htmx=True)
    assert field_error(text(response), "password") == "Use at least 12 characters."
    assert 'value="x@example.com"' in text(response)


def test_the_last_admin_cannot_be_removed(signed_in, in_app):
    with in_app():
        me = User.get()
    response = signed_in.post(f"/admins/{me.id}/delete")
    assert response.status_code == 303
    assert "admin@example.com is the last admin and cannot be removed." in text(signed_in.get("/admins"))
    with in_app():
        assert User.select().count() == 1


def test_removing_yourself_signs_you_out(signed_in, app, in_app):
    create_admin(app, "other@example.com")
    with in_app():
        me = User.get(User.email == ADMIN_EMAIL)
    response = signed_in.post(f"/admins/{me.id}/delete")
    assert response.headers["Location"] == "/login"
    assert signed_in.get("/sandboxes").status_code == 303


def test_a_form_without_its_csrf_token_expires_and_saves_nothing(signed_in, in_app):
    response = signed_in.post("/admins", {"email": "sneaky@example.com", "password": "another long pass"}, csrf=False)
    assert response.status_code == 400
    assert "This form has expired" in text(response)
    assert "Nothing was saved." in text(response)
    response = signed_in.post("/sandboxes", {"name": "sneaky"}, csrf=False, htmx=True)
    assert response.status_code == 400
    assert "This form has expired" in text(response)
    with in_app():
        assert not User.select().where(User.email == "sneaky@example.com").exists()
