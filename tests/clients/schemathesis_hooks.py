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

import re
import uuid

import schemathesis

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
