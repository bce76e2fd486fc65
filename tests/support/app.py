"""The app under test: its encryption key, the first admin, and a test client that speaks CSRF
like a browser."""
import re

from cryptography.fernet import Fernet

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery"
ENCRYPTION_KEY = Fernet.generate_key().decode()


class BrowserLikeClient:
    """Flask's test client plus the CSRF token a browser would have read from the page."""

    TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|"X-CSRFToken": "([^"]+)"')

    def __init__(self, client):
        self.client = client
        self.token = None

    def __getattr__(self, name):
        return getattr(self.client, name)

    def get(self, *args, **kwargs):
        response = self.client.get(*args, **kwargs)
        self._remember_token(response)
        return response

    def _remember_token(self, response):
        match = self.TOKEN.search(response.get_data(as_text=True))
        if match:
            self.token = match.group(1) or match.group(2)

    def post(self, url, data=None, htmx=False, csrf=True, **kwargs):
        """POST a form; with csrf=True the token of the last page read is sent along."""
        data = dict(data or {})
        headers = dict(kwargs.pop("headers", {}))
        if csrf:
            if self.token is None:
                self.get("/login")
            if htmx:
                headers["X-CSRFToken"] = self.token
            else:
                data.setdefault("csrf_token", self.token)
        if htmx:
            headers["HX-Request"] = "true"
        response = self.client.post(url, data=data, headers=headers, **kwargs)
        self._remember_token(response)
        return response

    def htmx_get(self, url, **kwargs):
        headers = {"HX-Request": "true", **kwargs.pop("headers", {})}
        return self.get(url, headers=headers, **kwargs)


def sign_in_client(app, email=ADMIN_EMAIL, password=ADMIN_PASSWORD) -> BrowserLikeClient:
    """Another browser of the app, signed in as `email`."""
    other = BrowserLikeClient(app.test_client())
    other.get("/login")
    response = other.post("/login", {"email": email, "password": password})
    assert response.status_code == 303, response.get_data(as_text=True)
    other.get(response.headers["Location"], follow_redirects=True)  # as a browser would: a fresh CSRF token
    return other


def create_admin(app, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
    from wizard.core.db import database
    from wizard.core.models import User

    with app.app_context(), database.connection_context():
        user = User(email=email)
        user.set_password(password)
        user.save()
        return user.id
