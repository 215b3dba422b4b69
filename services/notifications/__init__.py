"""Notifications: delivery of rupture alerts to professionals (server-sent events, signed
webhooks, e-mail), at least once, never twice to the same recipient on the same channel.

Its parts: ``service.build_embedded`` / ``build_distributed``, ``api.router``, and
``process.serve`` that runs the distributed process; ``parcours/bootstrap.py`` builds them
(``run_notifier``)."""
