"""A GraphQL subscription over WebSocket with the `gql` package's websockets transport and the
graphql-transport-ws protocol, as a third-party front end would open one.

Usage: subscribe.py <ws-url> <token or -> <query> <max events> <seconds>
Prints "ready" once the connection is acknowledged and the subscription sent, then one line
"event <epoch seconds> <json>" per event, then "complete" when the server ends the
subscription, "timeout" when <seconds> pass first, or "refused <why>" when the server will not
have it. Exits 0 in each of those cases, 2 on misuse.
"""

import asyncio
import json
import sys
import time

from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport


async def run(url: str, token: str, query: str, most: int, seconds: float) -> None:
    init = {} if token == "-" else {"Authorization": f"Bearer {token}"}
    transport = WebsocketsTransport(
        url=url,
        init_payload=init,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        ack_timeout=10,
    )
    try:
        async with Client(transport=transport, fetch_schema_from_transport=False) as session:
            got = 0

            async def follow() -> None:
                nonlocal got
                stream = session.subscribe(gql(query))
                print("ready", flush=True)
                async for result in stream:
                    print(f"event {time.time():.3f} {json.dumps(result)}", flush=True)
                    got += 1
                    if got >= most:
                        return
                print("complete", flush=True)

            try:
                await asyncio.wait_for(follow(), timeout=seconds)
            except asyncio.TimeoutError:
                print("timeout", flush=True)
    except Exception as e:  # the server refusing the connection or the subscription
        print(f"refused {type(e).__name__}: {e}", flush=True)


def main() -> int:
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    url, token, query, most, seconds = sys.argv[1:]
    asyncio.run(run(url, token, query, int(most), float(seconds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
