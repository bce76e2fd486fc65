"""The shell: 404 and assets, navigation, headers, and two languages with a complete catalog."""
import re
from pathlib import Path

from tests.support.html import text

ROOT = Path(__file__).resolve().parents[2]


def test_unknown_urls_get_a_styled_404_in_the_users_language(signed_in):
    response = signed_in.get("/no/such/page")
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in text(response) and "app.css" in text(response)
    response = signed_in.get("/no/such/page", headers={"Accept-Language": "zh-TW,zh;q=0.9"})
    assert "<h1>找不到頁面</h1>" in text(response)


def test_a_404_for_htmx_is_a_fragment(signed_in):
    response = signed_in.htmx_get("/no/such/page")
    assert response.status_code == 404
    assert "<html" not in text(response) and "Page not found" in text(response)


def test_htmx_and_pico_are_served_from_the_npm_install(client):
    htmx = client.get("/vendor/htmx.min.js")
    assert htmx.status_code == 200 and b"htmx" in htmx.data
    assert client.get("/vendor/pico.min.css").status_code == 200
    assert client.get("/vendor/../package.json").status_code == 404
    assert client.get("/vendor/other.js").status_code == 404


def test_the_page_shell_has_navigation_csrf_for_htmx_and_an_indicator(signed_in):
    page = text(signed_in.get("/sandboxes"))
    assert '<a href="/sandboxes" aria-current="page">Sandboxes</a>' in page
    assert '<a href="/audit" >Audit log</a>' in page or '<a href="/audit">Audit log</a>' in page
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    assert 'id="request-indicator" class="htmx-indicator"' in page
    assert "/vendor/htmx.min.js" in page


def test_fragments_and_pages_are_cached_apart(signed_in):
    assert "HX-Request" in signed_in.get("/sandboxes").headers["Vary"]


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def test_pages_forbid_inline_script_and_style_and_signed_in_pages_are_not_stored(app, signed_in):
    for response in (app.test_client().get("/login"), signed_in.get("/sandboxes"),
                     signed_in.htmx_get("/sandboxes/1/edit"), signed_in.get("/no/such/page")):
        assert response.headers["Content-Security-Policy"] == CSP
        assert response.headers["Cache-Control"] == "no-store"
    for asset in ("/static/app.css", "/static/app.js", "/vendor/htmx.min.js", "/vendor/pico.min.css"):
        response = signed_in.get(asset)
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("Cache-Control", "")


def test_htmx_is_configured_to_need_no_inline_style_and_no_eval(signed_in):
    page = text(signed_in.get("/sandboxes"))
    assert '"includeIndicatorStyles": false' in page and '"allowEval": false' in page


INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\shx-on|\son[a-z]+=|js:|javascript:", re.I)


def test_templates_carry_no_inline_script_style_or_handlers():
    found = [f"{path.relative_to(ROOT)}: {match.group(0).strip()}"
             for path in sorted((ROOT / "templates").rglob("*.html")) for match in INLINE.finditer(path.read_text())]
    assert found == []


def test_language_comes_from_accept_language(client, admin):
    assert "<h1>Sign in</h1>" in text(client.get("/login", headers={"Accept-Language": "en-GB"}))
    assert "<h1>登入</h1>" in text(client.get("/login", headers={"Accept-Language": "zh-TW"}))
    assert "<h1>登入</h1>" in text(client.get("/login", headers={"Accept-Language": "zh-Hant-HK"}))
    assert "<h1>Sign in</h1>" in text(client.get("/login", headers={"Accept-Language": "zh-CN"}))
    assert "<h1>Sign in</h1>" in text(client.get("/login", headers={"Accept-Language": "fr"}))


def test_the_language_switch_is_remembered(signed_in, app):
    signed_in.get("/sandboxes")
    response = signed_in.post("/language", {"language": "zh_Hant", "next": "/sandboxes"})
    assert response.headers["Location"] == "/sandboxes"
    assert "<h1>沙箱</h1>" in text(signed_in.get("/sandboxes"))
    # Remembered on the account too: a new browser that signs in gets it back.
    other = app.test_client()
    from tests.support.app import ADMIN_EMAIL, ADMIN_PASSWORD, BrowserLikeClient

    other = BrowserLikeClient(other)
    other.get("/login")
    other.post("/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert "<h1>沙箱</h1>" in text(other.get("/sandboxes"))


def test_an_unknown_language_changes_nothing(signed_in):
    signed_in.get("/sandboxes")
    signed_in.post("/language", {"language": "xx", "next": "https://evil.example/"})
    assert "<h1>Sandboxes</h1>" in text(signed_in.get("/sandboxes"))
