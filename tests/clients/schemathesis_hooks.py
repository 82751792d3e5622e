"""schemathesis hooks for the Coproduce runs (loaded through SCHEMATHESIS_HOOKS by
schemathesis_run.py).

Idempotency-Key: schemathesis draws a handful of literal keys ("0", "null", ...) and sends each
with many different bodies. The service then rightly answers 422 `idempotency_key_reused` (the same
key with another body, as draft-ietf-httpapi-idempotency-key asks), which schemathesis reports as
a schema-valid request rejected. Every well-formed key is made unique per request, so each generated
request is judged on its own; malformed keys are left alone, so their rejection is still tested.
"""

import re
import uuid

import schemathesis

WELL_FORMED = re.compile(r"^[\x21-\x7e]{1,255}$")


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers
    if not headers:
        return
    for name in list(headers):
        if name.lower() != "idempotency-key":
            continue
        value = headers[name]
        if isinstance(value, str) and WELL_FORMED.match(value):
            headers[name] = f"{uuid.uuid4().hex}-{value}"[:255]
