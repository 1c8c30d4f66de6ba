"""Users, roles, access tokens, API keys and the audit log."""
