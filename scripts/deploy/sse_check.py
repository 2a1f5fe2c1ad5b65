"""The change feed's stream through a deployment's front door: open GET /sessions/-/events, create a session, and
see its session.created arrive on the stream (stdlib only: runs with the host's python3).

    python3 scripts/deploy/sse_check.py http://127.0.0.1:8080 [bearer-token]
"""

from __future__ import annotations

import http.client
import json
import sys
import time
import urllib.parse
import uuid


def main(base: str, token: str | None) -> int:
    url = urllib.parse.urlsplit(base)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    stream = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    stream.request("GET", "/sessions/-/events?events=session.created", headers={"Accept": "text/event-stream",
                                                                                **headers})
    response = stream.getresponse()
    kind = response.getheader("Content-Type", "")
    if response.status != 200 or not kind.startswith("text/event-stream"):
        print(f"sse: GET /sessions/-/events answered {response.status} {kind}: {response.read()[:300]!r}")
        return 1
    while response.readline().strip():  # the opening frame (retry and a comment) ends with a blank line
        pass
    session_id = f"sse-check-{uuid.uuid4().hex[:8]}"
    writer = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    writer.request("POST", "/sessions?type=agent", body=json.dumps({"session_id": session_id, "agent_id": "a"}),
                   headers={"Content-Type": "application/json", **headers})
    created = writer.getresponse()
    if created.status != 201:
        print(f"sse: create answered {created.status}: {created.read()[:300]!r}")
        return 1
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = response.readline().decode().strip()
        if line.startswith("data:") and json.loads(line[5:])["session_id"] == session_id:
            print(f"sse: session.created of {session_id} arrived through {base}")
            return 0
    print(f"sse: no event for {session_id} within 30 s")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
