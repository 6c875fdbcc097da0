"""Intake's answer to a body over the limit (`shared.body_limit` refuses it): problem+json, or
Open311's own error document under `/open311/`."""

from __future__ import annotations

import orjson

from services.intake.open311.documents import Open311Error
from services.intake.open311.rendering import JSON_CONTENT_TYPE, XML_CONTENT_TYPE, errors_json, errors_xml
from shared.body_limit import problem_too_large


def too_large_response(path: str, limit: int) -> tuple[bytes, str]:
    if path.startswith("/open311/"):
        errors = [Open311Error(413, f"the request body is larger than {limit} bytes")]
        if path.endswith(".xml"):
            return errors_xml(errors), XML_CONTENT_TYPE
        return orjson.dumps(errors_json(errors)), JSON_CONTENT_TYPE
    return problem_too_large(path, limit)
