"""What a reader sees on a page in the page's language: its text and the attributes read aloud
or shown (title, placeholder, aria-label, alt, button values). Left out: code, which is shown
as typed; what an admin typed into a text area; and elements marked as not in the page's
language (`translate="no"`, such as a message's text, or a `lang` other than Chinese)."""
from html.parser import HTMLParser

SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "data-confirm", "hx-confirm")
AS_TYPED = {"code", "pre", "kbd", "samp", "script", "style", "textarea"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open = []  # (tag, whether its content is left out)
        self.parts = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in SHOWN_ATTRIBUTES:
            if attrs.get(name):
                self.parts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])
        if tag not in VOID:
            foreign = attrs.get("translate") == "no" or not (attrs.get("lang") or "zh").startswith("zh")
            self.open.append((tag, foreign or tag in AS_TYPED))

    def handle_endtag(self, tag):
        if any(name == tag for name, _left_out in self.open):
            while self.open.pop()[0] != tag:
                pass

    def handle_data(self, data):
        if not any(left_out for _tag, left_out in self.open):
            self.parts.append(data)


def shown_text(html: str) -> list[str]:
    """The page's text runs, as a reader meets them."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return [" ".join(part.split()) for part in reader.parts if part.strip()]
