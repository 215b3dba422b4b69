"""Settings of the web interface, from environment variables prefixed ``PARCOURS_WEB_``."""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARCOURS_WEB_", extra="ignore")

    session_key: SecretStr | None = None
    """Signs the session cookie. Without it, a random key is made beside the data (embedded)."""
    idle_minutes: int = 30
    """A session ends after this much inactivity."""
    absolute_hours: int = Field(default=12, ge=1, le=12)
    """A session ends this long after sign-in however active it is (12 hours at most: a
    working day), and sooner when the identity provider's access token ends."""
    time_zone: str = "Europe/Paris"
    oidc_issuer: str | None = None
    """The identity provider's issuer URL; its /.well-known/openid-configuration is read."""
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    """Absent for a public client: PKCE alone proves the code is ours."""
    oidc_scope: str = "openid profile"

    @property
    def oidc(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    def key(self, data_dir: Path) -> bytes:
        if self.session_key is not None:
            return self.session_key.get_secret_value().encode()
        path = data_dir / "web-session.key"
        if not path.exists():
            import secrets

            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_hex(32))
        return path.read_text().strip().encode()
