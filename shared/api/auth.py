"""Who is calling: OAuth2 bearer tokens (JWT, OIDC-compatible), verified against the identity
provider's keys (a JWKS URL, or a configured public key). In the embedded mode, a local
signing key stands in for the identity provider: that is the development set-up only."""

import logging
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.domain.principal import ROLES, Principal
from shared.runtime.settings import Settings
from shared.storage.files import private_file

log = logging.getLogger(__name__)

ALGORITHMS = ["ES256", "RS256"]
DEFAULT_MAX_LIFETIME_S = 12 * 3600


class DevelopmentKeyError(RuntimeError):
    """The development set-up was asked for where it must never run."""


class AuthenticationError(Exception):
    """The token is missing, malformed, expired, or not from our identity provider."""


class TokenVerifier:
    def __init__(self, issuer: str, audience: str, public_key: Any = None,
                 jwks_url: str | None = None,
                 max_lifetime_s: int = DEFAULT_MAX_LIFETIME_S) -> None:
        if public_key is None and not jwks_url:
            raise ValueError("a public key or a JWKS URL is needed to verify tokens")
        self.issuer, self.audience, self.public_key = issuer, audience, public_key
        self.jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None
        self.max_lifetime_s = max_lifetime_s

    def verify(self, token: str) -> Principal:
        """The caller, or ``AuthenticationError`` for a bad token of any kind (never another
        exception: a token is user input, and a crafted one must answer 401, not 500)."""
        try:
            key = (self.jwks.get_signing_key_from_jwt(token).key if self.jwks
                   else self.public_key)
            claims = jwt.decode(token, key, algorithms=ALGORITHMS, audience=self.audience,
                                issuer=self.issuer,
                                options={"require": ["exp", "iat", "sub", "iss", "aud"]})
        except jwt.PyJWTError as error:
            raise AuthenticationError(str(error)) from None
        except Exception as error:  # a key of the wrong type for the algorithm, and the like
            raise AuthenticationError(f"unusable token: {type(error).__name__}") from None
        return self._principal(claims)

    def expiry_of(self, token: str) -> float:
        """When a token that ``verify`` accepted ends (its ``exp``, checked there)."""
        claims = jwt.decode(token, options={"verify_signature": False})
        return float(claims["exp"])

    def nonce_of(self, id_token: str, client_id: str) -> str:
        """The nonce of an OpenID Connect ID token from our provider, issued to this client."""
        try:
            key = (self.jwks.get_signing_key_from_jwt(id_token).key if self.jwks
                   else self.public_key)
            claims = jwt.decode(id_token, key, algorithms=ALGORITHMS, audience=client_id,
                                issuer=self.issuer,
                                options={"require": ["exp", "iat", "sub", "iss", "aud"]})
        except Exception as error:
            raise AuthenticationError(f"bad ID token: {type(error).__name__}") from None
        nonce = claims.get("nonce")
        if not isinstance(nonce, str):
            raise AuthenticationError("the ID token has no nonce")
        return nonce

    def _principal(self, claims: dict[str, Any]) -> Principal:
        issued, expires = claims.get("iat"), claims.get("exp")
        if not all(isinstance(v, int | float) and not isinstance(v, bool)
                   for v in (issued, expires)):
            raise AuthenticationError("iat and exp must be numbers")
        assert isinstance(issued, int | float) and isinstance(expires, int | float)
        if expires - issued > self.max_lifetime_s:
            raise AuthenticationError("token lifetime longer than allowed")
        role, subject = claims.get("role"), claims.get("sub")
        name, territory = claims.get("name", subject), claims.get("territory")
        if role not in ROLES:
            raise AuthenticationError(f"unknown role {role!r}")
        if not isinstance(subject, str) or not subject or not isinstance(name, str):
            raise AuthenticationError("sub and name must be strings")
        if territory is not None and not isinstance(territory, str):
            raise AuthenticationError("territory must be a string")
        return Principal(id=subject, name=name, role=role, territory=territory)


def sign(private_key: Any, principal: Principal, issuer: str, audience: str,
         lifetime_s: int = 8 * 3600) -> str:
    now = int(time.time())
    claims = {"iss": issuer, "aud": audience, "sub": principal.id, "name": principal.name,
              "role": principal.role, "iat": now, "exp": now + lifetime_s}
    if principal.territory:
        claims["territory"] = principal.territory
    return jwt.encode(claims, private_key, algorithm="ES256")


def development_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The embedded mode's signing key, made on first use, kept beside the data (never in
    the repository)."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key
    key = ec.generate_private_key(ec.SECP256R1())
    private_file(path)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return key


def load_public_key(pem: str) -> Any:
    return serialization.load_pem_public_key(pem.encode())


def verifier_for(settings: Settings) -> TokenVerifier:
    """The identity provider's keys (JWKS URL, or a public key); the local development key
    only in the embedded mode or when it is named explicitly."""
    issuer, audience = settings.auth_issuer, settings.auth_audience
    longest = settings.auth_max_token_lifetime_s
    if settings.auth_jwks_url:
        return TokenVerifier(issuer, audience, jwks_url=settings.auth_jwks_url,
                             max_lifetime_s=longest)
    if settings.auth_public_key:
        return TokenVerifier(issuer, audience, load_public_key(settings.auth_public_key),
                             max_lifetime_s=longest)
    dev_key = settings.dev_key_path()
    if dev_key is not None and settings.mode == "distributed":
        raise DevelopmentKeyError(
            f"PARCOURS_AUTH_DEV_KEY_PATH ({dev_key}) is a development signing key: the "
            "distributed mode refuses it. Set PARCOURS_AUTH_JWKS_URL (or "
            "PARCOURS_AUTH_PUBLIC_KEY) with PARCOURS_AUTH_ISSUER and PARCOURS_AUTH_AUDIENCE.")
    if dev_key is None:
        raise RuntimeError(
            "No identity provider configured: set PARCOURS_AUTH_JWKS_URL (or "
            "PARCOURS_AUTH_PUBLIC_KEY) with PARCOURS_AUTH_ISSUER and PARCOURS_AUTH_AUDIENCE.")
    log.warning("DEVELOPMENT SET-UP: tokens are signed by the local key %s, not by an "
                "identity provider", dev_key)
    return TokenVerifier(issuer, audience, development_key(dev_key).public_key(),
                         max_lifetime_s=longest)
