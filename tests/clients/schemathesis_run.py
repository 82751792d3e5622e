"""Runs schemathesis with all its checks against <base>/openapi.json once per token, and against
<base>/graphql once per --graphql token, side by side, and sums up what it found from its NDJSON
event reports.

    python tests/clients/schemathesis_run.py http://127.0.0.1:8080 admin=TOKEN provider=TOKEN \
        [--graphql participant=TOKEN ...] [--graphql-examples 10] \
        [--schemathesis PATH] [--min-requests 2000] [--report-dir DIR] [--summary-json FILE] \
        [-- extra schemathesis run options]

GraphQL runs leave out two of schemathesis's checks, which judge GraphQL answers by rules this
service does not follow, and add one of ours (schemathesis_hooks.py, `graphql_answers_cleanly`):
- `not_a_server_error` fails any answer with `errors`, a refusal as much as a crash. This API
  answers "not found", "not allowed" and "not valid" as GraphQL errors with `extensions.code`.
  Ours fails a non-200 status, a body that is not GraphQL's shape, an error with no code, and an
  error coded `internal` or with a 5xx status.
- `positive_data_acceptance` fails a query refused before it runs. The limits on depth,
  complexity, aliases and page size (`first` 1 to 200) refuse queries the schema cannot describe
  as invalid.

Options for every run come from tests/clients/schemathesis.toml (workers, examples, seed, ...);
options after `--` are passed to each `schemathesis run` and win over the file.

Exits 0 only when every run finished with no check failure, no error, no 5xx answer, and the runs
sent at least --min-requests requests between them; 1 otherwise; 2 on misuse. The summary groups
failures by check and operation, each with a curl command that reproduces one example (tokens
shown as $ADMIN, $PROVIDER, ...) and the server's answer.
"""

import argparse
import base64
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "schemathesis.toml"
HOOKS = HERE / "schemathesis_hooks.py"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", help="the service's base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("runs", nargs="*", help="label=token, one schemathesis run each")
    parser.add_argument("--schemathesis", default=os.environ.get("COPRODUCE_SCHEMATHESIS", "schemathesis"))
    parser.add_argument("--min-requests", type=int, default=2000)
    parser.add_argument("--report-dir", default=None, help="where the runs' reports go (default: a temp dir)")
    parser.add_argument("--summary-json", default=None, help="also write the grouped failures here")
    parser.add_argument("--examples-per-group", type=int, default=1)
    parser.add_argument("--graphql", action="append", default=[], help="label=token: a run against <base>/graphql")
    parser.add_argument("--graphql-examples", type=int, default=10, help="examples per GraphQL field")
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    args = parser.parse_args(argv)
    args.extra = extra
    runs = []
    for item in args.runs:
        label, sep, token = item.partition("=")
        if not sep or not label or not token:
            parser.error(f"expected label=token, got {item!r}")
        runs.append((label, token, False))
    for item in args.graphql:
        label, sep, token = item.partition("=")
        if not sep or not label or not token:
            parser.error(f"expected label=token, got {item!r}")
        runs.append((f"graphql-{label}", token, True))
    if not runs:
        parser.error("give at least one label=token or --graphql label=token")
    args.runs = runs
    return args


def decode(body):
    if body is None:
        return None
    if isinstance(body, dict) and "$base64" in body:
        raw = base64.b64decode(body["$base64"])
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("latin-1")
    if isinstance(body, dict) and "string" in body:
        return body["string"]
    return str(body)


def curl_for(request, tokens):
    """A curl command for a recorded request, with each token replaced by $LABEL."""

    def hide(text):
        for label, token in tokens:
            text = text.replace(token, f"${label.upper()}")
        return text

    def quote(text):
        # Double quotes where a token variable must expand, single quotes elsewhere.
        hidden = hide(text)
        if hidden != text:
            return '"' + hidden.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`") + '"'
        return shlex.quote(text)

    parts = ["curl", "-sS", "-i", "-X", request["method"]]
    for name, values in (request.get("headers") or {}).items():
        for value in values if isinstance(values, list) else [values]:
            # curl drops a header given as `Name:`; `Name;` sends it empty.
            parts += ["-H", quote(f"{name}: {value}" if value != "" else f"{name};")]
    body = decode(request.get("body"))
    if body is not None:
        parts += ["--data-binary", quote(body)]
    parts.append(quote(request["uri"]))
    return " ".join(parts)


def analyse(label, ndjson_path, tokens, per_group):
    """Requests sent, 5xx answers, errors and failures grouped by (check, operation, message)."""
    requests = 0
    server_errors = []
    errors = []
    groups = {}
    finished = None
    with open(ndjson_path, encoding="utf-8") as lines:
        for line in lines:
            event = json.loads(line)
            (kind, data), = event.items()
            if kind == "EngineFinished":
                finished = data
            if kind in ("NonFatalError", "FatalError"):
                info = data.get("info") or {}
                errors.append(
                    f"{data.get('label', '')}: {info.get('title') or info.get('message') or json.dumps(data)[:300]}"
                )
            if kind != "ScenarioFinished":
                continue
            recorder = data.get("recorder") or {}
            interactions = recorder.get("interactions") or {}
            requests += len(interactions)
            for case_id, interaction in interactions.items():
                response = interaction.get("response") or {}
                status = response.get("status_code")
                if isinstance(status, int) and status >= 500:
                    server_errors.append((recorder.get("label"), status, curl_for(interaction["request"], tokens)))
            for case_id, checks in (recorder.get("checks") or {}).items():
                for check in checks:
                    if check.get("status") != "failure":
                        continue
                    failure = (check.get("failure_info") or {}).get("failure") or {}
                    message = (failure.get("message") or "").strip()
                    key = (check["name"], failure.get("code", ""), failure.get("operation") or recorder.get("label"),
                           failure.get("title", ""), message.splitlines()[0] if message else "")
                    group = groups.setdefault(key, {"count": 0, "examples": [], "runs": set()})
                    group["count"] += 1
                    group["runs"].add(label)
                    if len(group["examples"]) < per_group:
                        interaction = interactions.get(case_id) or {}
                        response = interaction.get("response") or {}
                        request = interaction.get("request")
                        group["examples"].append(
                            {
                                "run": label,
                                "message": message,
                                "curl": curl_for(request, tokens) if request else "(no request recorded)",
                                "status": response.get("status_code"),
                                "response": (decode(response.get("content")) or "")[:600],
                                "phase": (data.get("phase") or ""),
                            }
                        )
    return requests, server_errors, errors, groups, finished


def main():
    args = parse_args()
    report_root = Path(args.report_dir or tempfile.mkdtemp(prefix="coproduce-schemathesis-"))
    report_root.mkdir(parents=True, exist_ok=True)
    tokens = [(label, token) for label, token, _ in args.runs]
    procs = []
    started = time.monotonic()
    for label, token, graphql in args.runs:
        out_dir = report_root / label
        out_dir.mkdir(parents=True, exist_ok=True)
        target = [f"{args.base.rstrip('/')}/openapi.json"]
        if graphql:
            target = [
                f"{args.base.rstrip('/')}/graphql",
                "--max-examples",
                str(args.graphql_examples),
                "--exclude-checks",
                "not_a_server_error,positive_data_acceptance",
            ]
        command = [
            args.schemathesis,
            "--config-file",
            str(CONFIG),
            "run",
            *target,
            "--checks",
            "all",
            "-H",
            f"Authorization: Bearer {token}",
            "--report",
            "ndjson,json",
            "--report-ndjson-path",
            str(out_dir / "events.ndjson"),
            "--report-json-path",
            str(out_dir / "report.json"),
            "--output-sanitize",
            "false",
            "--no-color",
            *args.extra,
        ]
        log = open(out_dir / "output.txt", "w", encoding="utf-8")
        # Each run on its own process: one worker each (CPython 3.11's ast.parse is not safe to
        # call from several threads, which hypothesis does for schemathesis's workers).
        env = dict(os.environ, SCHEMATHESIS_HOOKS=str(HOOKS))
        # Run in the report folder: what the tools leave behind (.hypothesis/) stays out of the
        # repository.
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=out_dir)
        procs.append((label, proc, log, out_dir))
    codes = {}
    for label, proc, log, _ in procs:
        codes[label] = proc.wait()
        log.close()
    elapsed = time.monotonic() - started

    total_requests = 0
    all_5xx = []
    all_errors = []
    merged = {}
    lines = [f"schemathesis against {args.base} ({elapsed:.1f} s, reports in {report_root})"]
    for label, _, _, out_dir in procs:
        ndjson = out_dir / "events.ndjson"
        if not ndjson.exists():
            all_errors.append(f"{label}: no event report; schemathesis exited {codes[label]}")
            lines.append(f"[{label}] exit {codes[label]}, no report; its output:")
            lines.append((out_dir / "output.txt").read_text(encoding="utf-8", errors="replace")[-3000:])
            continue
        requests, server_errors, errors, groups, finished = analyse(
            label, ndjson, tokens, args.examples_per_group
        )
        total_requests += requests
        all_5xx += [(label, *e) for e in server_errors]
        all_errors += [f"{label}: {e}" for e in errors]
        failures = sum(g["count"] for g in groups.values())
        lines.append(
            f"[{label}] exit {codes[label]}: {requests} requests, {failures} failed checks in "
            f"{len(groups)} groups, {len(server_errors)} answers 5xx, {len(errors)} errors"
        )
        for key, group in groups.items():
            if key in merged:
                merged[key]["count"] += group["count"]
                merged[key]["runs"] |= group["runs"]
                merged[key]["examples"] += group["examples"][: max(0, args.examples_per_group - len(merged[key]["examples"]))]
            else:
                merged[key] = group

    lines.append("")
    for (check, code, operation, title, first), group in sorted(merged.items()):
        runs = ",".join(sorted(group["runs"]))
        lines.append(f"FAIL {check} {code} {title} | {operation} | {first} (x{group['count']}, as {runs})")
        for example in group["examples"]:
            curl = example["curl"]
            lines.append(f"    {curl if len(curl) <= 700 else curl[:700] + ' ...(cut; whole in the NDJSON report)'}")
            lines.append(f"    -> {example['status']} {example['response'][:300]}")
    for label, operation, status, curl in all_5xx[:20]:
        lines.append(f"5XX [{label}] {operation} -> {status}: {curl}")
    for error in all_errors[:20]:
        lines.append(f"ERROR {error}")

    problems = []
    if merged:
        problems.append(f"{sum(g['count'] for g in merged.values())} failed checks in {len(merged)} groups")
    if all_5xx:
        problems.append(f"{len(all_5xx)} answers 5xx")
    if all_errors:
        problems.append(f"{len(all_errors)} errors")
    if total_requests < args.min_requests:
        problems.append(f"only {total_requests} requests sent, expected at least {args.min_requests}")
    for label, code in codes.items():
        if code != 0 and not merged and not all_errors:
            problems.append(f"{label}: schemathesis exited {code}")
    lines.append("")
    lines.append(f"requests sent in all: {total_requests}")
    lines.append(("FAIL schemathesis: " + "; ".join(problems)) if problems else "PASS schemathesis: no failures")
    print("\n".join(lines))

    if args.summary_json:
        Path(args.summary_json).write_text(
            json.dumps(
                {
                    "requests": total_requests,
                    "elapsed_seconds": elapsed,
                    "exit_codes": codes,
                    "server_errors": all_5xx,
                    "errors": all_errors,
                    "groups": [
                        {
                            "check": k[0],
                            "code": k[1],
                            "operation": k[2],
                            "title": k[3],
                            "message": k[4],
                            "count": g["count"],
                            "runs": sorted(g["runs"]),
                            "examples": g["examples"],
                        }
                        for k, g in sorted(merged.items())
                    ],
                },
                indent=2,
            ),
            encoding="utf-8",
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
