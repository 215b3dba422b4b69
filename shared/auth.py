"""Who is calling: OAuth2 bearer tokens (JWT, OIDC-compatible), verified against the identity
provider's keys (a JWKS URL, or a configured public key). In the embedded mode, a local
signing key stands in for the identity provider: that is the development set-up only."""

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.settings import Settings

log = logging.getLogger(__name__)

Role = Literal["referrer", "case_manager", "coordinator", "analyst", "administrator"]
ROLES: tuple[str, ...] = get_args(Role)
ALGORITHMS = ["ES256", "RS256"]


@dataclass(frozen=True)
class Principal:
    id: str
    name: str
    role: Role
    territory: str | None


class DevelopmentKeyError(RuntimeError):
    """The development set-up was asked for where it must never run."""


class AuthenticationError(Exception):
    """The token is missing, malformed, expired, or not from our identity provider."""


class TokenVerifier:
    def __init__(self, issuer: str, audience: str, public_key: Any = None,
                 jwks_url: str | None = None) -> None:
        if public_key is None and not jwks_url:
            raise ValueError("a public key or a JWKS URL is needed to verify tokens")
        self.issuer, self.audience, self.public_key = issuer, audience, public_key
        self.jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None

    def verify(self, token: str) -> Principal:
        try:
            key = (self.jwks.get_signing_key_from_jwt(token).key if self.jwks
                   else self.public_key)
            claims = jwt.decode(token, key, algorithms=ALGORITHMS, audience=self.audience,
                                issuer=self.issuer,
                                options={"require": ["exp", "iat", "sub", "iss", "aud"]})
        except jwt.PyJWTError as error:
            raise AuthenticationError(str(error)) from None
        role = claims.get("role")
        if role not in ROLES:
            raise AuthenticationError(f"unknown role {role!r}")
        return Principal(id=str(claims["sub"]), name=str(claims.get("name", claims["sub"])),
                         role=role, territory=claims.get("territory"))


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
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
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
    if settings.auth_jwks_url:
        return TokenVerifier(issuer, audience, jwks_url=settings.auth_jwks_url)
    if settings.auth_public_key:
        return TokenVerifier(issuer, audience, load_public_key(settings.auth_public_key))
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
    return TokenVerifier(issuer, audience, development_key(dev_key).public_key())
