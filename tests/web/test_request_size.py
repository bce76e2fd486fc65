"""One limit on the size of a request (MAX_CONTENT_LENGTH): a larger one is refused with 413 and a
page that says so, before its body is read."""
import io

from tests.support.html import text

MAX_CONTENT_LENGTH = 1024 * 1024  # the setting's default
THIRTY_MB = 30 * 1024 * 1024


class CountingBody(io.RawIOBase):
    """A request body of `size` bytes that remembers how much of it was read."""

    def __init__(self, size: int):
        self.size, self.position, self.read_so_far = size, 0, 0

    def readable(self):
        return True

    def seekable(self):
        return True  # the test client measures the body by seeking to its end and back

    def seek(self, offset, whence=io.SEEK_SET):
        self.position = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence] + offset
        return self.position

    def tell(self):
        return self.position

    def readinto(self, buffer):
        count = max(0, min(len(buffer), self.size - self.position))
        buffer[:count] = b"a" * count
        self.position += count
        self.read_so_far += count
        return count


def test_a_30_mb_anonymous_post_to_login_is_refused_unread(client, admin):
    body = CountingBody(THIRTY_MB)
    response = client.client.post("/login", input_stream=body, content_length=THIRTY_MB,
                                  content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    page = text(response)
    assert "<h1>This request is too large</h1>" in page
    assert "Nothing was saved. The app accepts at most 1024 KB in one request." in page
    assert body.read_so_far < MAX_CONTENT_LENGTH


def test_a_large_form_under_the_limit_is_read(signed_in):
    # 600 KB in one field: over Flask's own 500 KB per field, under the one limit.
    response = signed_in.post("/sandboxes", {"name": "x" * 600 * 1024})
    assert response.status_code == 422
    assert "A sandbox name has at most 64 characters." in text(response)


def test_the_limit_is_a_setting(app, client, admin):
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = client.post("/login", {"email": "a" * 4096, "password": "x"}, csrf=False)
    assert response.status_code == 413
    assert "The app accepts at most 2 KB in one request." in text(response)


def test_too_large_for_htmx_is_a_fragment_in_the_users_language(client, admin):
    response = client.client.post("/login", data={"email": "a" * (MAX_CONTENT_LENGTH + 1)},
                                  headers={"HX-Request": "true", "Accept-Language": "zh-TW"})
    assert response.status_code == 413
    assert "<html" not in text(response) and "<h1>請求太大</h1>" in text(response)
