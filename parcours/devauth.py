"""The development set-up of authentication, for the embedded mode only: the demo's users, a
command that prints a token for one of them, and a login form. A real deployment plugs an
identity provider instead (see docs/api.md, Access).

The form mints coordinator and administrator tokens for whoever reaches it, so it is mounted
only in the embedded mode on a loopback interface (``check_mountable`` refuses to start
otherwise), and answers only requests whose ``Host`` is a loopback name: a web page that
rebinds its own name to 127.0.0.1 gets nothing from it."""

import ipaddress
from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from shared.api.auth import DevelopmentKeyError, Principal, development_key, sign
from shared.api.http import SettingsDep
from shared.domain.errors import ForbiddenError
from shared.events.values import NonEmpty
from shared.fictitious import DEMO_USERS
from shared.runtime.settings import Settings


def token_for(settings: Settings, principal: Principal) -> str:
    key_path = settings.dev_key_path()
    if key_path is None or settings.mode != "embedded":
        raise RuntimeError("tokens are issued by the identity provider in this set-up")
    return sign(development_key(key_path), principal, settings.auth_issuer,
                settings.auth_audience)


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_mountable(settings: Settings) -> None:
    """Refuses, with a message, a development login anywhere but embedded on loopback."""
    if settings.mode != "embedded":
        raise DevelopmentKeyError(
            "the development login is for the embedded mode only: the distributed mode "
            "refuses PARCOURS_AUTH_DEV_KEY_PATH; configure an identity provider "
            "(PARCOURS_AUTH_JWKS_URL or PARCOURS_AUTH_PUBLIC_KEY).")
    if not is_loopback(settings.host):
        raise DevelopmentKeyError(
            f"PARCOURS_HOST={settings.host} is not a loopback interface: the development "
            "login would give coordinator and administrator tokens to anyone who reaches it. "
            "Serve on 127.0.0.1, or configure an identity provider.")


def _trusted_host(request: Request) -> None:
    host = request.headers.get("host", "")
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if not is_loopback(name):
        raise ForbiddenError("La connexion de développement n'est servie qu'à localhost.",
                             host=host[:200])


router = APIRouter(tags=["connexion (développement)"], dependencies=[Depends(_trusted_host)])

_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Parcours : connexion de développement</title></head><body>
<h1>Parcours : connexion de développement</h1>
<p><strong>Configuration de développement</strong> : les jetons sont signés par une clé locale,
pas par un fournisseur d'identité. Les utilisateurs sont ceux de la démonstration (fictifs).</p>
{body}</body></html>"""


@router.get("/login", response_class=HTMLResponse)
def login_form() -> str:
    """Development login: choose one of the demo's users."""
    options = "".join(f'<option value="{escape(u.id)}">{escape(u.name)} ({u.role})</option>'
                      for u in DEMO_USERS.values())
    return _PAGE.format(body=f"""<form method="post" action="/login">
<label>Utilisateur <select name="user">{options}</select></label>
<button type="submit">Obtenir un jeton</button></form>""")


@router.post("/login", response_class=HTMLResponse)
def login(settings: SettingsDep, user: Annotated[NonEmpty, Form()]) -> str:
    """Development login: the token of the chosen demo user."""
    principal = DEMO_USERS.get(user)
    if principal is None:
        return _PAGE.format(body="<p>Utilisateur inconnu. <a href='/login'>Retour</a></p>")
    token = token_for(settings, principal)
    return _PAGE.format(body=f"""<p>Jeton de {escape(principal.name)}, valable 8 heures :</p>
<textarea rows="6" cols="100" readonly>{escape(token)}</textarea>
<p>Envoyez-le dans l'en-tête <code>Authorization: Bearer &lt;jeton&gt;</code>, ou utilisez le
bouton « Authorize » de <a href="/docs">/docs</a>.</p>""")
