"""What Knowledge lets each role do (core's ``core.identifying.view`` still guards every
identifying value)."""

from flask_babel import lazy_gettext as _l

from core.permissions import ADMIN, DOCUMENTER, MEMBER, REVIEWER, Permission

VIEW = "knowledge.view"
WRITE = "knowledge.write"

PERMISSIONS = [
    Permission(VIEW, _l("See its records (without identifying data unless allowed)"),
               {ADMIN, REVIEWER, DOCUMENTER, MEMBER}),
    Permission(WRITE, _l("Write new records"), {ADMIN, REVIEWER, DOCUMENTER}),
]
