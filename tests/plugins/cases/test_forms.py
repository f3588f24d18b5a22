"""Every code the cases models know has a label in the forms."""

from plugins.cases.forms import LABELLED


def test_every_code_has_a_label():
    for codes, labels in LABELLED.items():
        assert set(codes) == set(labels), codes
