"""Roles and the permission registry."""

import pytest

from core.permissions import (
    MANAGE_USERS,
    VIEW_IDENTIFYING,
    Permission,
    PermissionRegistry,
    registry,
)


def test_roles_that_see_identifying_data_need_a_second_factor(app):
    assert registry(app).roles_needing_second_factor() == {"admin", "documenter", "reviewer"}


def test_members_hold_no_identifying_permission(app):
    assert not registry(app).allows("member", VIEW_IDENTIFYING)
    assert not registry(app).allows(None, MANAGE_USERS)


def test_an_unknown_permission_is_an_error_not_a_silent_answer(app):
    with pytest.raises(KeyError):
        registry(app).allows("admin", "core.users.manag")


def test_permissions_name_known_roles_only():
    with pytest.raises(ValueError):
        Permission("x.y", "y", {"queen"})


def test_a_permission_cannot_be_declared_twice():
    with pytest.raises(ValueError):
        PermissionRegistry([Permission("x.y", "y"), Permission("x.y", "z")])
