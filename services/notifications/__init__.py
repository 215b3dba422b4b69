"""Notifications: delivery of rupture alerts to professionals (SSE, webhooks, e-mail).

NOT BUILT YET: this package is reserved by the layout; the service arrives with the issue
"Projections that serve follow-up"."""
