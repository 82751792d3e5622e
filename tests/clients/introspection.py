"""graphql-core's full introspection query against POST <base>/graphql, as code generators and
IDE plugins send it, once without a token and once with the token given.

    python tests/clients/introspection.py http://127.0.0.1:8080 [TOKEN]

Each attempt passes when the answer is 200 with `data` and no `errors`, graphql-core's
build_client_schema() accepts the data, and the built schema's Query type has `opportunities`.
Exits 0 when every attempt passes, 1 otherwise, 2 on misuse. Needs graphql-core only.
"""

import json
import sys
import urllib.error
import urllib.request

import graphql

QUERY = graphql.get_introspection_query(
    descriptions=True,
    specified_by_url=True,
    directive_is_repeatable=True,
    schema_description=True,
    input_value_deprecation=True,
)


def post(url, token):
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"query": QUERY, "operationName": "IntrospectionQuery"}).encode()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def attempt(url, label, token):
    status, text = post(url, token)
    try:
        answer = json.loads(text)
    except ValueError:
        return f"{label}: HTTP {status}, not JSON: {text[:500]}"
    if status != 200:
        return f"{label}: HTTP {status}: {text[:800]}"
    if answer.get("errors"):
        return f"{label}: errors: {json.dumps(answer['errors'])[:800]}"
    data = answer.get("data")
    if not data:
        return f"{label}: no data: {text[:500]}"
    try:
        schema = graphql.build_client_schema(data)
    except Exception as e:  # noqa: BLE001 - any failure to build is the finding
        return f"{label}: build_client_schema failed: {type(e).__name__}: {e}"
    query = schema.query_type
    if query is None or "opportunities" not in query.fields:
        fields = sorted(query.fields) if query else []
        return f"{label}: the Query type has no field opportunities (fields: {fields})"
    print(
        f"PASS {label}: {len(schema.type_map)} types, Query is {query.name} "
        f"with {len(query.fields)} fields"
    )
    return None


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    url = sys.argv[1].rstrip("/") + "/graphql"
    token = sys.argv[2] if len(sys.argv) > 2 else None
    print(f"graphql-core {graphql.__version__}; POST {url}")
    attempts = [("without a token", None)]
    if token:
        attempts.append(("with a valid token", token))
    failures = [f for f in (attempt(url, label, t) for label, t in attempts) if f]
    for failure in failures:
        print(f"FAIL {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
