"""Rabita's core: the node's app factory, users, permissions, audit, records and plugin API."""

from core.app import create_app

__all__ = ["create_app"]
