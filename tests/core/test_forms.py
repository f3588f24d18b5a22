"""Form helpers: the <option> tags of a filter form."""

from core.forms import option_tags


def test_option_tags_escape_values_and_labels_and_mark_the_chosen_one():
    choices = (("a&b", "Arrest <and> detention"), ("TN-61", 'صفاقس "Sfax"'), ("", "—"))
    html = str(option_tags(choices, "TN-61"))
    assert html == ('<option value="a&amp;b">Arrest &lt;and&gt; detention</option>'
                    '<option value="TN-61" selected>صفاقس &#34;Sfax&#34;</option>'
                    '<option value="">—</option>')
    assert "selected" not in str(option_tags(choices, "a&amp;b"))  # raw values are compared
    assert str(option_tags(choices, "a&b")).count(" selected>") == 1
    assert option_tags((), None) == ""
