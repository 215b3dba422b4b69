"""Writes every FHIR resource of a fictitious pathway (the FHIR tests' story) as JSON files
into a folder, for the HL7 validator."""

import json
import random
import sys
import tempfile
from pathlib import Path
from uuid import uuid4

from fastapi.testclient import TestClient

from parcours.bootstrap import create_app
from services.fhir.resources import patient
from shared import fictitious
from shared.runtime.settings import Settings
from tests.e2e import test_fhir_api
from tests.e2e.conftest import HEADERS


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp, TestClient(
            create_app(Settings(mode="embedded", data_dir=Path(tmp) / "var")),
            headers=HEADERS) as client:
        story = test_fhir_api.story.__wrapped__(client)  # type: ignore[attr-defined]
        (out / "metadata.json").write_text(client.get("/fhir/metadata").text)
        everything = client.get(f"/fhir/Patient/{story['pathway']}/$everything").json()
        (out / "everything.json").write_text(json.dumps(everything))
        for n, entry in enumerate(everything["entry"]):
            resource = entry["resource"]
            (out / f"{n:02d}-{resource['resourceType']}.json").write_text(json.dumps(resource))
    # A Patient whose identity a hospital's qualified identity confirmed (VALI).
    qualified = patient(uuid4(), fictitious.referral(random.Random(1)).person,
                        "SIH_FICTIF^CH_VILLEFICTIVE")
    (out / "patient-vali.json").write_text(qualified.model_dump_json(exclude_none=True))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
