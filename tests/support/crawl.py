"""Walking the app as an admin would: every page reachable by links and htmx GETs, each also
fetched as an htmx fragment."""
import re
from html import unescape
from typing import NamedTuple
from urllib.parse import urlsplit

LINK = re.compile(r'(?:href|hx-get|data-hx-get)="(/[^"#]*)"')
NEVER_GET = ("/logout", "/language", "/sandboxes/current")


class Page(NamedTuple):
    path: str
    htmx: bool
    body: str
    status: int
    mimetype: str


def crawl(client, start="/", limit=400) -> list[Page]:
    """Every page reachable from `start`, whole and as a fragment."""
    seen, queue, bodies = set(), [start], []
    while queue and len(seen) < limit:
        path = queue.pop()
        if path in seen or path.startswith(NEVER_GET) or path.startswith(("/vendor/", "/static/")):
            continue
        seen.add(path)
        for htmx in (False, True):
            response = client.htmx_get(path) if htmx else client.get(path)
            body = response.get_data(as_text=True)
            bodies.append(Page(path, htmx, body, response.status_code, response.mimetype))
            for link in LINK.findall(body):
                link = unescape(link)
                if urlsplit(link).path not in seen:
                    queue.append(link)
    return bodies
