"""The public contract of Parcours: pathway events as pydantic models, JSON both ways."""

from shared.events.envelope import EventEnvelope, UnknownEventTypeError, payload_class
from shared.events.payloads import (
    PAYLOAD_TYPES,
    AdmissionRefused,
    Admitted,
    CaseManagerAssigned,
    Closed,
    Discharged,
    Evaluated,
    Hospitalised,
    Payload,
    PlanRevised,
    Referred,
)
from shared.events.values import Actor

__all__ = [
    "PAYLOAD_TYPES",
    "Actor",
    "AdmissionRefused",
    "Admitted",
    "CaseManagerAssigned",
    "Closed",
    "Discharged",
    "Evaluated",
    "EventEnvelope",
    "Hospitalised",
    "Payload",
    "PlanRevised",
    "Referred",
    "UnknownEventTypeError",
    "payload_class",
]
