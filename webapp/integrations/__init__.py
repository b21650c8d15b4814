"""Integrations (issue 20): outgoing webhooks (outgoing.py), incoming webhooks (incoming.py),
slash commands (commands.py), their management (manage.py) and the SSRF guard (ssrf.py)."""
