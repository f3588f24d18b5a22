"""Roles and the permission registry: what each role may do.

The check a view makes (``require_permission``) and the refusal (``deny``) are in
``core.access``, with the rest of who may reach what.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from core.plugins import require_prefix, results_by_plugin

EXTENSION_KEY = "rabita.permissions"

ADMIN, REVIEWER, DOCUMENTER, MEMBER = "admin", "reviewer", "documenter", "member"
ROLES = (ADMIN, REVIEWER, DOCUMENTER, MEMBER)
ROLE_LABELS = {
    ADMIN: _l("Administrator"),
    REVIEWER: _l("Reviewer"),
    DOCUMENTER: _l("Documenter"),
    MEMBER: _l("Member"),
}


@dataclass(frozen=True)
class Permission:
    """A named right, granted to roles. ``identifying`` rights require a second factor."""

    name: str
    description: str
    roles: frozenset[str] = field(default_factory=frozenset)
    identifying: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.roles) - set(ROLES)
        if unknown:
            raise ValueError(f"Permission {self.name!r} names unknown roles: {sorted(unknown)}")
        object.__setattr__(self, "roles", frozenset(self.roles))


MANAGE_USERS = "core.users.manage"
READ_AUDIT = "core.audit.read"
VIEW_IDENTIFYING = "core.identifying.view"
MANAGE_CONSENT = "core.consent.manage"
REVIEW_RECORDS = "core.records.review"
READ_LEDGER = "core.ledger.read"
MANAGE_KEYS = "core.keys.manage"

CORE_PERMISSIONS = (
    Permission(MANAGE_USERS, _l("Invite, disable and change users"), {ADMIN}),
    Permission(READ_AUDIT, _l("Read the audit log"), {ADMIN}),
    Permission(
        VIEW_IDENTIFYING,
        _l("See identifying data (names, contacts, exact places)"),
        {ADMIN, REVIEWER, DOCUMENTER},
        identifying=True,
    ),
    Permission(MANAGE_CONSENT, _l("Record and withdraw consent"), {ADMIN, REVIEWER, DOCUMENTER}),
    Permission(
        REVIEW_RECORDS, _l("Approve what leaves the node, for records one did not write"),
        {ADMIN, REVIEWER},
    ),
    Permission(READ_LEDGER, _l("Read the outbound ledger"), {ADMIN}),
    Permission(MANAGE_KEYS, _l("Unlock and lock the node"), {ADMIN}),
)


class PermissionRegistry:
    """Every permission core and the active plugins declare, and who holds each."""

    def __init__(self, permissions: Iterable[Permission]):
        self._by_name: dict[str, Permission] = {}
        for permission in permissions:
            if permission.name in self._by_name:
                raise ValueError(f"The permission {permission.name!r} is declared twice.")
            self._by_name[permission.name] = permission

    def __iter__(self):
        return iter(self._by_name.values())

    def get(self, name: str) -> Permission:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"No permission named {name!r} is registered.") from None

    def allows(self, role: str | None, name: str) -> bool:
        # Unknown permission names raise: a typo must not silently deny (or allow).
        return role is not None and role in self.get(name).roles

    def roles_needing_second_factor(self) -> frozenset[str]:
        return frozenset(role for p in self if p.identifying for role in p.roles)


def init_app(app: Flask) -> None:
    permissions = list(CORE_PERMISSIONS)
    for plugin, declared in results_by_plugin(app, "register_permissions"):
        for permission in declared:
            require_prefix("permission", permission.name, plugin, ".")
            permissions.append(permission)
    app.extensions[EXTENSION_KEY] = PermissionRegistry(permissions)


def registry(app: Flask | None = None) -> PermissionRegistry:
    return (app or current_app).extensions[EXTENSION_KEY]


def role_can(role: str | None, name: str) -> bool:
    return registry().allows(role, name)


def needs_second_factor(role: str) -> bool:
    return role in registry().roles_needing_second_factor()
