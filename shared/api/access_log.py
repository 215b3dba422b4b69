"""The HTTP servers' access log, without query strings: a query carries identifiers (an INS in
a FHIR search, a name typed in a filter), and no personal data goes into a log. The path stays:
it names resources by opaque ids only."""

import copy
import logging
from typing import Any

from uvicorn.config import LOGGING_CONFIG


class PathOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn logs (client, method, path with query, HTTP version, status).
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) \
                and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?…", *args[3:])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's own logging set-up, with the access log's queries taken out."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["path_only"] = {"()": PathOnly}
    config["handlers"]["access"]["filters"] = ["path_only"]
    return config
