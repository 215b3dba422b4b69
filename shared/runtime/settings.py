"""Settings, from environment variables prefixed ``PARCOURS_`` (``PORT`` for the HTTP port)."""

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.domain.commands import Delays, Policy
from shared.storage.files import private_file


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARCOURS_", extra="ignore")

    mode: Literal["embedded", "distributed"] = "embedded"
    data_dir: Path = Path("var")
    database_url: str = "postgresql://parcours@127.0.0.1:55432/parcours"
    kafka_bootstrap: str = "127.0.0.1:59092"
    topic: str = "parcours.pathway-events.v1"
    alerts_topic: str = "parcours.alerts.v1"
    analytics_topic: str = "parcours.analytics.v1"
    pseudonym_key: SecretStr | None = None
    analytics_k: int = Field(default=5, ge=2)
    """The analytics stream publishes a referral's traits (territory, sex, age band) only in
    combinations that at least this many persons referred in the same period share."""
    analytics_period: Literal["month", "quarter", "year"] = "quarter"
    """The analytics stream's period: its dates go to it, and its pseudonyms change with it."""
    topic_partitions: int = 6
    db_wait_s: float = Field(default=5.0, gt=0)
    """How long a request waits for a PostgreSQL connection before answering 503: during an
    outage the API fails fast instead of hanging."""
    idempotency_ttl_days: float = Field(default=7, gt=0)
    """How long a command's Idempotency-Key is remembered (a retry after that is new)."""
    relay_batch_size: int = 2000
    """Log entries the relay publishes in one Kafka transaction at most (read in pages of 500)."""
    relay_positions_topic: str = "parcours.relay-positions.v1"
    """Where the relay keeps its position, written in the same Kafka transaction as each batch."""
    relay_transaction_timeout_ms: int = 15_000
    """How long the broker keeps a transaction a dead relay left open (consumers reading
    committed records wait that long on its partitions unless the relay restarts sooner)."""
    relay_idle_wait_s: float = Field(default=1.0, gt=0)
    """With nothing to publish the relay waits for PostgreSQL's notification of new events, and
    looks again after this long even without one."""
    consumer_max_poll_records: int = 500
    consumer_session_timeout_ms: int = 10_000
    default_capacity: int = 35
    evaluation_interval_days: int = 180
    initial_evaluation_days: int = 30
    return_evaluation_days: int = 7
    rule_r3_days: int = 7
    rule_r4_days: int = 10
    rule_r6_gp_days: int = 15
    rule_r6_plan_days: int = 15
    rule_r7_days: int = 3
    rule_immediate_lapse_days: int = 2
    scheduler_interval_s: float = 1.0
    alerts_at_once: bool = True
    """Embedded mode: a stay or a discharge wakes the scheduler, so its alert (R1, R2) fires
    at once rather than at the next tick. Tests that tick the platform themselves turn it
    off."""
    time_zone: str = "Europe/Paris"
    """The territory's time zone: a fact given as a day happened at its start there."""
    future_date_tolerance_days: int = 1
    """How far ahead of now a fact's date may be before it is refused as a typing error."""
    demo_on_empty: bool = True
    auth_issuer: str = "parcours-dev"
    auth_audience: str = "parcours"
    auth_jwks_url: str | None = None
    auth_public_key: str | None = None
    auth_dev_key_path: Path | None = None
    # A token valid longer than this is refused, whatever the identity provider says: a stolen
    # token must not open health data for days.
    auth_max_token_lifetime_s: int = Field(default=12 * 3600, gt=0)
    auth_max_failures: int = Field(default=20, gt=0)
    """Refused tokens and failed sign-ins from one address per window, before 429."""
    auth_failure_window_s: int = Field(default=60, gt=0)
    # Bodies above this answer 413 before anything is parsed (the largest command is a few kB).
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    cors_origins: list[str] = []
    host: str = "127.0.0.1"
    # The hospitals' ADT feed (services/hl7): `parcours hl7 listen` uses 2575 when unset; the
    # embedded `parcours serve` starts the listener only when a port is set.
    hl7_port: int | None = None
    hl7_host: str = "127.0.0.1"
    hl7_senders: dict[str, str | dict[str, str | list[str]]] = {
        "SIH_FICTIF^CH_VILLEFICTIVE": {"territory": "dac-val-fictif",
                                       "establishment": "CH de Villefictive"}}
    """Who may send: "<MSH-3>^<MSH-4>" → a territory, or {territory, establishment, and what
    binds the sender to its connection: certificate_sha256, certificate_cn, peers}."""
    hl7_stay_match_hours: float = 12
    hl7_idle_timeout_s: float = 300
    hl7_frame_timeout_s: float = Field(default=30, gt=0)
    """A frame (or a TLS handshake) begun and not finished within this closes its connection:
    a sender trickling bytes must not hold a connection slot for the whole idle timeout."""
    hl7_max_connections: int = Field(default=32, gt=0)
    """Connections open at once; one more is closed as soon as it is accepted."""
    hl7_max_message_bytes: int = 256 * 1024
    # The read audit's chain is keyed with a secret the database never holds, so that someone
    # with every right on the database still cannot rewrite it (shared.storage.audit_anchor).
    audit_key: SecretStr | None = None
    audit_key_file: Path | None = None
    audit_checkpoint_path: Path | None = None
    """Where the audit's signed checkpoints are appended: default ``<data_dir>/
    audit-checkpoints.jsonl``. Outside the database on purpose."""
    audit_checkpoint_every: int = Field(default=1000, gt=0)
    """A checkpoint each time the chain crosses a multiple of this many records."""
    hl7_tls_cert: Path | None = None
    hl7_tls_key: Path | None = None
    hl7_tls_client_ca: Path | None = None
    """The CA (PEM) that signs the hospitals' client certificates: required with TLS."""
    port: int = Field(default=8000, validation_alias=AliasChoices("PORT", "PARCOURS_PORT"))

    def journal_env(self) -> dict[str, str]:
        """The eventsourcing library's own settings for the chosen persistence (and how long
        the journal's recorder keeps idempotency keys)."""
        if self.mode == "embedded":
            journal = private_file(self.data_dir / "journal.sqlite")
            return {
                "IDEMPOTENCY_TTL_DAYS": str(self.idempotency_ttl_days),
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(journal),
                "SQLITE_LOCK_TIMEOUT": "10",
            }
        url = urlsplit(self.database_url)
        return {
            "IDEMPOTENCY_TTL_DAYS": str(self.idempotency_ttl_days),
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.path.lstrip("/"),
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "parcours",
            "POSTGRES_PASSWORD": url.password or "",
            "POSTGRES_POOL_SIZE": "5",
            "POSTGRES_LOCK_TIMEOUT": "10",
            # Fail fast during an outage (the pool's wait, whole seconds for the library), and
            # check a pooled connection before use so none is stale after a restart.
            "POSTGRES_CONNECT_TIMEOUT": str(max(1, round(self.db_wait_s))),
            "POSTGRES_PRE_PING": "y",
        }

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def policy(self) -> Policy:
        return Policy(
            evaluation_interval_days=self.evaluation_interval_days,
            initial_evaluation_days=self.initial_evaluation_days,
            return_evaluation_days=self.return_evaluation_days,
            default_capacity=self.default_capacity,
        )

    def delays(self) -> Delays:
        return Delays(
            r3_no_revision_after_discharge=self.rule_r3_days,
            r4_stay_without_note=self.rule_r4_days,
            r6_without_attending_gp=self.rule_r6_gp_days,
            r6_plan_not_validated=self.rule_r6_plan_days,
            r7_no_discharge_letter=self.rule_r7_days,
            immediate_lapse=self.rule_immediate_lapse_days,
        )

    def dev_key_path(self) -> Path | None:
        """The local signing key of the development set-up, when it is in use."""
        if self.auth_jwks_url or self.auth_public_key:
            return None
        if self.auth_dev_key_path:
            return self.auth_dev_key_path
        return self.data_dir / "dev-signing-key.pem" if self.mode == "embedded" else None

    @property
    def views_sqlite_path(self) -> Path:
        return self.data_dir / "views.sqlite"

