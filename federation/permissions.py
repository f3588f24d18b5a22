"""What federation lets each role do: pair with other nodes, and read what partners shared."""

from flask_babel import lazy_gettext as _l

from core.permissions import ADMIN, DOCUMENTER, MEMBER, REVIEWER, Permission

MANAGE = "federation.manage"
READ_SHARED = "federation.read_shared"

PERMISSIONS = [
    Permission(MANAGE, _l("Pair with other nodes and the hub, and watch their sync"), {ADMIN}),
    Permission(READ_SHARED, _l("Read the redacted records partner nodes shared"),
               {ADMIN, REVIEWER, DOCUMENTER, MEMBER}),
]
