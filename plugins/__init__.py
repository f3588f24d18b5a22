"""Rabita's built-in plugins: one folder each, every one the same shape (see plugins/cases)."""
