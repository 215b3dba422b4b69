"""Tokens for the tests: every suite signs with one throw-away development key, made here and
given to every platform and process the tests start through the environment."""

import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from shared.api.auth import development_key, sign
from shared.domain.principal import Principal, Role
from shared.fictitious import TERRITORY

_KEY = Path(tempfile.mkdtemp(prefix="parcours-tests-")) / "dev-signing-key.pem"
os.environ["PARCOURS_AUTH_DEV_KEY_PATH"] = str(_KEY)
# The distributed mode refuses a development key: its tests verify the same tokens as an
# identity provider's, through the public key (PARCOURS_AUTH_PUBLIC_KEY).
PUBLIC_KEY = development_key(_KEY).public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
# The read audit's key, likewise: the distributed mode refuses to start without one.
AUDIT_KEY_FILE = _KEY.with_name("audit-key")
AUDIT_KEY_FILE.write_text(os.urandom(32).hex())
os.environ["PARCOURS_AUDIT_KEY_FILE"] = str(AUDIT_KEY_FILE)


def bearer(user_id: str, role: Role, territory: str | None = TERRITORY) -> dict[str, str]:
    """The Authorization header of a user, as the development set-up signs it."""
    token = sign(development_key(_KEY), Principal(user_id, f"Utilisateur {user_id}", role,
                                                  territory), "parcours-dev", "parcours")
    return {"Authorization": f"Bearer {token}"}
