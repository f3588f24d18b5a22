"""Codes in words and text in its direction (core.wording's filters)."""

import pytest

from core import wording
from core.review import Shareability


@pytest.mark.parametrize("text, isolated", [
    ("اتصلي على +216 98 123 456 غدا", "+216 98 123 456"),
    ("Écrire à salma.b@example.org demain", "salma.b@example.org"),
    ("انظري الحالة C-00041 من فضلك", "C-00041"),
    ("الحالة C-0A1B-2C3D مفتوحة", "C-0A1B-2C3D"),
    ("هاتف: (71) 123-456", "(71) 123-456"),
])
def test_numbers_and_addresses_in_what_she_wrote_read_left_to_right(text, isolated):
    shown = str(wording.bidi(text))
    assert shown.startswith('<bdi dir="auto">') and shown.endswith("</bdi>")
    assert f'<bdi dir="ltr">{isolated}</bdi>' in shown


def test_what_she_wrote_is_escaped_once():
    assert str(wording.bidi("<script>1 & 2</script>")) == (
        '<bdi dir="auto">&lt;script&gt;1 &amp; 2&lt;/script&gt;</bdi>')
    assert str(wording.ltr("a<b")) == '<bdi dir="ltr">a&lt;b</bdi>'
    assert wording.bidi(None) == "" and wording.ltr("") == ""


def test_plain_words_are_not_taken_for_numbers():
    assert "ltr" not in str(wording.bidi("Elle a 25 ans, née en 2001"))


def test_codes_are_named_in_her_language(app):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert wording.audiences("peers hub") == (
            "Nœuds partenaires de la coalition, Le pôle régional")
        assert "peers" not in wording.shareability(Shareability(False, "no-consent"))
    with app.test_request_context(headers={"Accept-Language": "ar"}):
        assert "،" in wording.purposes(["advocacy", "statistics"])
        assert "Nœuds" not in wording.audience("peers") != "peers"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert wording.consent_end("superseded") == "replaced by a newer consent"


def test_every_reason_a_record_cannot_leave_has_a_sentence():
    import inspect

    from core import review

    codes = set(__import__("re").findall(r'Shareability\((?:True|False), "([a-z-]+)"\)',
                                         inspect.getsource(review)))
    assert codes and codes <= set(wording.SHAREABILITY_SENTENCES)
