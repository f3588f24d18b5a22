"""Federation's forms: pairing, approving, removing (each carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional


class ApprovePeerForm(FlaskForm):
    """Approve a node that asked to pair: its fingerprint, as read aloud, and a local name."""

    fingerprint = StringField(
        _l("Its fingerprint, as its administrator read it to you"),
        validators=[InputRequired(), Length(max=120)],
        render_kw={"dir": "ltr", "inputmode": "numeric", "autocomplete": "off"},
    )
    label = StringField(_l("A name for it on this node (optional)"),
                        validators=[Optional(), Length(max=100)])
    submit = SubmitField(_l("Approve"))


class AddPeerForm(ApprovePeerForm):
    """Add a node by its address and fingerprint (adding it is this node's approval)."""

    url = StringField(_l("The node's address"), validators=[InputRequired(), Length(max=300)],
                      render_kw={"dir": "ltr", "inputmode": "url",
                                 "placeholder": "https://…"})
    submit = SubmitField(_l("Add and approve"))
