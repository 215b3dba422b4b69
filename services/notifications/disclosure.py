"""How much an alert's e-mail or webhook may say. An inbox or an endpoint outside the health
data perimeter (a personal mailbox, a SaaS relay, a mail server's logs) must learn nothing
about the person followed: by default they are told that an alert is waiting, with the link to
the alerts page, where the professional reads it once signed in. Only a receiver the operator
lists as a health data system itself (an MSSanté domain, a hospital's record system) gets the
alert's content."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from services.notifications.settings import NotificationSettings

ALERTS_PAGE = "/alertes"


@dataclass(frozen=True)
class Disclosure:
    public_url: str = "http://127.0.0.1:8000"
    health_data_receivers: tuple[str, ...] = ()

    @property
    def alerts_link(self) -> str:
        return self.public_url.rstrip("/") + ALERTS_PAGE

    def tells_everything_to(self, channel: str, destination: str | None) -> bool:
        """Whether this receiver is listed as a health data system."""
        if not destination:
            return False
        if channel == "email":
            return any(_mail_matches(entry, destination) for entry in
                       self.health_data_receivers if "@" in entry)
        if channel == "webhook":
            return any(_origin(entry) == _origin(destination) for entry in
                       self.health_data_receivers if entry.startswith("https://"))
        return False


NOTICE_ONLY = Disclosure()
"""Where nothing was configured: notices only, linking to the development address."""


def disclosure_of(settings: NotificationSettings) -> Disclosure:
    return Disclosure(settings.public_url, tuple(settings.health_data_receivers))


def _mail_matches(entry: str, address: str) -> bool:
    entry, address = entry.strip().casefold(), address.strip().casefold()
    if entry.startswith("@"):
        domain = address.rpartition("@")[2]
        return domain == entry[1:] or domain.endswith("." + entry[1:])
    return entry == address


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    if parts.scheme != "https" or not parts.hostname:
        return None  # only https receivers can be trusted with the content
    return (parts.scheme, parts.hostname.casefold(), port)
