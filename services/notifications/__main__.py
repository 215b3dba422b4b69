"""``python -m services.notifications``: an entry point, built by the composition root like
``parcours notify``."""

from parcours.cli import notify_main

notify_main()
