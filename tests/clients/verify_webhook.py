"""Verifies webhook deliveries with the Standard Webhooks reference library (PyPI
`standardwebhooks`), as a receiver would.

Usage: verify_webhook.py <deliveries.json>, a JSON object {"secret": "whsec_...", "deliveries":
[{"headers": {...}, "body": "..."}]}. Each delivery must verify; the same delivery with its body
changed must not. Prints "verified N" and exits 0 when all is as it should be, 1 otherwise.
"""

import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        given = json.load(f)
    hook = Webhook(given["secret"])
    deliveries = given["deliveries"]
    if not deliveries:
        print("no deliveries given")
        return 1
    for d in deliveries:
        try:
            payload = hook.verify(d["body"], d["headers"])
        except WebhookVerificationError as e:
            print(f"refused a genuine delivery: {e}")
            return 1
        print(f"verified {d['headers']['webhook-id']}: {payload['type']}")
        tampered = d["body"].replace("}", ' }', 1)
        try:
            hook.verify(tampered, d["headers"])
        except WebhookVerificationError:
            pass
        else:
            print("accepted a tampered body")
            return 1
    print(f"verified {len(deliveries)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
