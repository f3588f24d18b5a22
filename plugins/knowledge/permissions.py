"""What the knowledge plugin lets each role do (core's ``core.identifying.view`` still guards
every identifying value: authors, narrators, contacts, a testimony's texts as written)."""

from flask_babel import lazy_gettext as _l

from core.permissions import ADMIN, DOCUMENTER, MEMBER, REVIEWER, Permission

VIEW = "knowledge.view"
WRITE = "knowledge.write"
TESTIMONIES = "knowledge.testimonies"

PERMISSIONS = [
    Permission(VIEW, _l("Read the library: resources of this node and those partner nodes "
                        "share"), {ADMIN, REVIEWER, DOCUMENTER, MEMBER}),
    Permission(WRITE, _l("Write and edit resources, attach files"),
               {ADMIN, REVIEWER, DOCUMENTER}),
    Permission(TESTIMONIES, _l("Read and write testimonies and shared experiences"),
               {ADMIN, REVIEWER, DOCUMENTER}),
]
