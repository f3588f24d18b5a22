"""Rabita's core: the node's app factory, users, permissions, audit, records and plugin API.

Importing ``core`` (or any one of its modules) does not build the app: the factory is
``core.app.create_app``.
"""
