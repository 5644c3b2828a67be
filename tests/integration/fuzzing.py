"""What every answer to a fuzzed request must be, for every service (schemathesis checks).

* never a 5xx but 503 (an outage: declared, a problem document): bad input is the caller's fault;
* every error a problem document: `application/problem+json` (or, for a browser's page, HTML),
  with `type`, `title`, `status` (the response's own) and `detail`;
* every status code and media type one the operation declares in the service's OpenAPI document.
"""

from __future__ import annotations

import json

from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from shared.problems import PROBLEM_JSON

REQUEST_TIMEOUT = 15  # seconds: a hung request fails the test instead of stalling it
SEED = 9457


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def not_a_server_error(ctx, response, case) -> None:
    """No input, however malformed, may make a service answer with a 5xx (503, an outage, excepted)."""
    if response.status_code >= 500 and response.status_code != 503:
        raise AssertionError(
            f"{case.method} {case.formatted_path} answered {response.status_code}: {response.text[:500]}"
        )


def errors_are_problem_details(ctx, response, case) -> None:
    """Every 4xx and 5xx is an RFC 9457 problem document (what partners' error handling relies on)."""
    status = response.status_code
    if status < 400:
        return
    where = f"{case.method} {case.formatted_path} answered {status}"
    content_type = (response.headers.get("content-type") or [None])[0]
    if _media_type(content_type) == "text/html":
        return  # a public page's error, for a browser (declared as such)
    assert _media_type(content_type) == PROBLEM_JSON, (
        f"{where} with Content-Type {content_type!r}, not {PROBLEM_JSON}: {response.text[:300]}"
    )
    if case.method.upper() == "HEAD":
        return  # no body to inspect
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{where} with a body that is not JSON: {response.text[:300]!r}") from None
    assert isinstance(body, dict), f"{where} with a JSON {type(body).__name__}, not an object: {body!r}"
    missing = [m for m in ("type", "title", "status", "detail") if m not in body]
    assert not missing, f"{where} with a problem document missing {missing}: {body!r}"
    for member in ("type", "title", "detail"):
        assert isinstance(body[member], str) and body[member], (
            f"{where}: `{member}` is not a non-empty string: {body!r}"
        )
    assert body["status"] == status, f"{where} but the problem document says status {body['status']!r}"


CHECKS = [not_a_server_error, errors_are_problem_details, status_code_conformance, content_type_conformance]


def node_id_for_lazy_schemathesis(request) -> None:
    """schemathesis 4.32's lazy loader reads and rewrites `Function._nodeid`, which pytest 9.2 no longer has
    (the node id is derived from `_id` now). Give it the attribute it expects; only its cosmetic renaming of
    the item per operation is lost: each operation still runs and reports as its own labelled subtest."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
