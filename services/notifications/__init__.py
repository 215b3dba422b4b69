"""Notifications: delivery of rupture alerts to professionals (server-sent events, signed
webhooks, e-mail), at least once, never twice to the same recipient on the same channel.

Entry points: ``main.run(settings, stop)`` for the distributed process,
``service.build_embedded(db)`` and ``api.router`` for the embedded mode."""
