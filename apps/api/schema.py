"""The OpenAPI schema's error responses, in one place (a drf-spectacular postprocessing hook).

Path ids are documented as the integers they are. Every operation may answer 401, 429 and 503 (and 404: an unknown id, or a stale cursor);
operations with parameters or a body 400; writes also 403, 409, 413, 415 and 422. All of them
with the one error shape (`Error`).
"""
from __future__ import annotations

from typing import Any

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error the API answers.",
    "properties": {
        "message": {"type": "string"},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
        "code": {"type": "string", "description": "Stable: invalid_model, not_executable, invalid_input, "
                                                  "parse_error, not_found, conflict, permission_denied, "
                                                  "not_authenticated, too_large, idempotency_key_reused, "
                                                  "throttled, unavailable, ..."},
    },
    "required": ["message", "errors", "code"],
}
PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "element": {"type": "string", "nullable": True, "description": "The BPMN element id, or the input field."},
        "line": {"type": "integer", "nullable": True, "description": "The line in the BPMN file, when known."},
        "message": {"type": "string"},
    },
    "required": ["element", "line", "message"],
}
DESCRIPTIONS = {
    "400": "Invalid input: `errors` name the fields (or the BPMN elements and lines).",
    "401": "Not authenticated (`WWW-Authenticate: Token`).",
    "403": "Authenticated, but not granted this on this process.",
    "404": "Unknown, or not readable by you.",
    "409": "Not possible in the current state (or the Idempotency-Key is in use by a running request).",
    "413": "The body is too large.",
    "415": "Unsupported Content-Type.",
    "422": "This Idempotency-Key was used for a different request.",
    "429": "Throttled (`Retry-After`).",
    "503": "The database, the broker or the cache is unavailable (`Retry-After`).",
}
# Ids are 64-bit database ids, routed by the pattern [0-9]{1,18}.
ID_SCHEMA = {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}
ALWAYS = ("401", "404", "429", "503")
WITH_INPUT = ("400",)
WRITES = ("400", "403", "409", "413", "415", "422")


def add_error_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas.setdefault("Problem", PROBLEM_SCHEMA)
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] == "id":
                    parameter["schema"] = ID_SCHEMA
            codes = list(ALWAYS)
            if operation.get("parameters") or operation.get("requestBody"):
                codes += WITH_INPUT
            if method in ("post", "put", "patch", "delete"):
                codes += WRITES
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(code, {"description": DESCRIPTIONS[code],
                                            "content": {"application/json": {"schema": ERROR_REF}}})
    return result
