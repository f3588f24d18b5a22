"""What the cases plugin lets each role do (core's ``core.identifying.view`` still guards
every identifying value)."""

from flask_babel import lazy_gettext as _l

from core.permissions import ADMIN, DOCUMENTER, MEMBER, REVIEWER, Permission

VIEW = "cases.view"
EDIT = "cases.edit"
EXPORT = "cases.export"

PERMISSIONS = [
    Permission(VIEW, _l("See cases (without identifying data unless allowed)"),
               {ADMIN, REVIEWER, DOCUMENTER, MEMBER}),
    Permission(EDIT, _l("Document cases: create and edit them, add tasks and files"),
               {ADMIN, REVIEWER, DOCUMENTER}),
    Permission(EXPORT, _l("Export cases to CSV and JSON"), {ADMIN, REVIEWER, DOCUMENTER, MEMBER}),
]
