"""The INS (identité nationale de santé) as carried by Parcours: a NIR or NIA of 13 characters
followed by a 2-digit control key equal to 97 − (number mod 97).

Corsican department codes 2A and 2B are replaced by 19 and 18 before the key is computed,
as the NIR specification requires."""

import re

SHAPE = re.compile(r"^[1-478][0-9]{4}(?:[0-9]{2}|2[AB])[0-9]{6}[0-9]{2}$")
_CORSICA = {"2A": "19", "2B": "18"}


def normalise(value: str) -> str:
    """Upper-case and drop the spaces and dots people type between the groups."""
    return re.sub(r"[\s.]", "", value).upper()


def control_key(first_13: str) -> int:
    department = first_13[5:7]
    digits = first_13[:5] + _CORSICA.get(department, department) + first_13[7:]
    return 97 - int(digits) % 97


def is_valid(value: str) -> bool:
    ins = normalise(value)
    return bool(SHAPE.match(ins)) and control_key(ins[:13]) == int(ins[13:])


def with_key(first_13: str) -> str:
    """Completes 13 characters with their key (used to generate fictitious identifiers)."""
    return f"{first_13}{control_key(first_13):02d}"
