"""Core's pages, one blueprint per concern: auth, home, account, admin, and error pages."""
