"""Verify SMS connection's segment counter: GSM-7 and UCS-2 messages, one segment or many."""
import pytest

from wizard.credentials.segments import count_segments


@pytest.mark.parametrize("body, characters, segments, encoding", [
    ("", 0, 0, "GSM-7"),
    ("a" * 160, 160, 1, "GSM-7"),
    ("a" * 161, 161, 2, "GSM-7"),
    ("a" * 306, 306, 2, "GSM-7"),
    ("a" * 307, 307, 3, "GSM-7"),
    ("€" * 80, 80, 1, "GSM-7"),  # extension characters take two septets
    ("a" * 159 + "€", 160, 2, "GSM-7"),
    ("Grüße à Øresund £5 @home", 24, 1, "GSM-7"),
    ("Hi 👋", 4, 1, "UCS-2"),
    ("中" * 70, 70, 1, "UCS-2"),
    ("中" * 71, 71, 2, "UCS-2"),
    ("😀" * 35, 35, 1, "UCS-2"),  # an emoji is two UTF-16 code units
    ("😀" * 36, 36, 2, "UCS-2"),
])
def test_the_segment_counter(body, characters, segments, encoding):
    counted = count_segments(body)
    assert (counted.characters, counted.segments, counted.encoding) == (characters, segments, encoding)
