"""schemathesis hooks for the Coproduce runs (loaded through SCHEMATHESIS_HOOKS by
schemathesis_run.py).

Idempotency-Key: schemathesis draws a handful of literal keys ("0", "null", ...) and sends each
with many different bodies. The service then rightly answers 422 `idempotency_key_reused` (the same
key with another body, as draft-ietf-httpapi-idempotency-key asks), which schemathesis reports as
a schema-valid request rejected. Every well-formed key is made unique per request, so each generated
request is judged on its own; malformed keys are left alone, so their rejection is still tested.

The keys are changed as the headers are generated (`map_headers`) and, for the coverage phase,
which does not go through that, just before the request is sent (`before_call`). An edit there
makes schemathesis revalidate the case, and a case built to leave out a required header
(Authorization) then goes out with it, so those cases are left as they are.
"""

import datetime
import re
import uuid

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

WELL_FORMED = re.compile(r"^[\x21-\x7e]{1,255}$")


def unique(headers):
    if not headers:
        return headers
    for name in list(headers):
        if name.lower() != "idempotency-key":
            continue
        value = headers[name]
        if isinstance(value, str) and WELL_FORMED.match(value):
            headers[name] = f"{uuid.uuid4().hex}-{value}"[:255]
    return headers


@schemathesis.hook
def map_headers(context, headers):
    return unique(headers)


def leaves_out_a_header(case):
    meta = getattr(case, "meta", None)
    data = getattr(getattr(meta, "phase", None), "data", None)
    text = f"{getattr(data, 'scenario', '')} {getattr(data, 'description', '')}".lower()
    return "missing" in text


@schemathesis.hook
def before_call(context, case, kwargs):
    if not leaves_out_a_header(case):
        unique(case.headers)


# GraphQL runs: values for the schema's own scalars, each in the form the server reads.
schemathesis.graphql.scalar("UUID", st.uuids().map(lambda u: nodes.String(str(u))))
schemathesis.graphql.scalar(
    "DateTime",
    st.datetimes(
        min_value=datetime.datetime(1900, 1, 1),
        max_value=datetime.datetime(2200, 1, 1),
        timezones=st.just(datetime.timezone.utc),
    ).map(lambda d: nodes.String(d.isoformat())),
)
schemathesis.graphql.scalar("NaiveDate", st.dates().map(lambda d: nodes.String(d.isoformat())))
# Any JSON value: an empty object, or a string.
schemathesis.graphql.scalar(
    "JSON", st.just(nodes.Object([])) | st.text(max_size=16).map(nodes.String)
)


@schemathesis.check
def graphql_answers_cleanly(ctx, response, case):
    """A GraphQL answer is 200 with `data` or `errors`, and every error carries the API's
    `extensions.code`, which is not `internal` and not a 5xx. Not applied to REST answers."""
    if not str(getattr(response.request, "url", "")).rstrip("/").endswith("/graphql"):
        return None
    if response.status_code != 200:
        raise AssertionError(f"a GraphQL answer with status {response.status_code}")
    body = response.json()
    if not isinstance(body, dict) or not ("data" in body or "errors" in body):
        raise AssertionError(f"not a GraphQL answer: {str(body)[:200]}")
    for error in body.get("errors") or []:
        extensions = error.get("extensions") or {}
        code = extensions.get("code")
        if code == "internal" or (isinstance(extensions.get("status"), int) and extensions["status"] >= 500):
            raise AssertionError(f"an internal error: {error}")
        if code is None:
            raise AssertionError(f"an error with no code: {error}")
    return None
