"""How a message body splits into SMS segments (GSM-7 or UCS-2), shown beside the test message."""
import math
from dataclasses import dataclass

# GSM 03.38: the basic table, and the extension table whose characters take two septets.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Segments:
    """How a message body travels: its encoding, and into how many SMS segments it splits."""

    characters: int
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    single: int  # what fits in one segment
    per_part: int  # what fits in each part of a split message
    doubled: tuple[str, ...]  # the GSM-7 extension characters in the body, which count twice


def count_segments(body: str) -> Segments:
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in body):
        encoding, single, per_part = "GSM-7", 160, 153
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in body)
        doubled = tuple(sorted({c for c in body if c in GSM7_EXTENSION}))
    else:
        # One non-GSM character switches the whole message to UCS-2; emoji take two code units.
        encoding, single, per_part, doubled = "UCS-2", 70, 67, ()
        units = len(body.encode("utf-16-le")) // 2
    segments = 0 if units == 0 else 1 if units <= single else math.ceil(units / per_part)
    return Segments(len(body), encoding, units, segments, single, per_part, doubled)
