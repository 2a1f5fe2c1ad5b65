"""Replay a request corpus against two servers and diff status line, content-type, headers and body bytes.

    python tests/contract/replay.py --a http://127.0.0.1:7777 --b http://127.0.0.1:8080 \\
        --requests tests/contract/requests.txt

A is the reference (the real AgentOS), B the candidate. Exit status 1 on any mismatch, 2 on a usage error.
Corpus format: see the header of requests.txt (`METHOD TARGET[<TAB>BODY]`, then `+ Name: value` header lines).
Volatile values (uuid4s, timestamps within a minute of the request, /health's instantiated_at) are masked
on both sides before the byte comparison, so only their shape has to match.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

DEFAULT_COMPARED_HEADERS = ("content-type", "allow", "vary")
NOW_WINDOW_S = 60
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]00:00)?")
EPOCH = re.compile(r"(?<=[:\[,])(1[5-9]\d{8})(?=[,}\]])")
INSTANTIATED = re.compile(r'"instantiated_at":"[^"]*"')
PLACEHOLDER = re.compile(r"\{\{([A-Z_][A-Z0-9_]*)\}\}")


@dataclass
class Request:
    """One corpus entry; `target` is sent verbatim (path + query, percent-encoding preserved)."""

    method: str
    target: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    where: str = ""

    def label(self) -> str:
        """How the request is named in reports."""
        return f"{self.method} {self.target}" + (f"  [{self.where}]" if self.where else "")


@dataclass
class Response:
    """What came back; header names lower-cased, repeated headers joined with ', '."""

    status: int
    headers: dict[str, str]
    body: bytes
    sent_at: float
    received_at: float
    reason: str = ""  # the status line's reason phrase: agno's client quotes it in its exception messages


def parse_corpus(text: str, source: str = "corpus", variables: dict[str, str] | None = None) -> list[Request]:
    """Parse the line format so corpora stay greppable and diffable in review."""
    variables = variables or {}
    requests: list[Request] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        missing = sorted(set(PLACEHOLDER.findall(line)) - set(variables))
        if missing:
            raise ValueError(f"{source}:{number}: unset variable(s) {missing}; pass --var NAME=VALUE")
        line = PLACEHOLDER.sub(lambda m: variables[m.group(1)], line)
        if line.startswith("+"):
            if not requests:
                raise ValueError(f"{source}:{number}: header line before any request")
            name, sep, value = line[1:].strip().partition(":")
            if not sep:
                raise ValueError(f"{source}:{number}: header line must be '+ Name: value'")
            requests[-1].headers.append((name.strip(), value.strip()))
            continue
        head, tab, body = line.partition("\t")
        parts = head.split()
        if len(parts) != 2:
            raise ValueError(f"{source}:{number}: expected 'METHOD TARGET[<TAB>BODY]', got {head!r}")
        method, target = parts[0].upper(), parts[1]
        if not target.startswith("/"):
            raise ValueError(f"{source}:{number}: target must start with '/'")
        requests.append(Request(method, target, body=body.encode("utf-8") if tab else None,
                                where=f"{source}:{number}"))
    return requests


def send(base_url: str, req: Request, timeout: float = 30.0) -> Response:
    """Send one request with http.client, which (unlike requests) never re-quotes the target."""
    parts = urlsplit(base_url)
    conn_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_class(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    target = parts.path.rstrip("/") + quote(req.target, safe="!#$%&'()*+,/:;=?@[]~")
    headers = {name: value for name, value in req.headers}
    if req.body is not None and not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = "application/json"
    headers = {name: value for name, value in headers.items() if value != ""}  # "+ Name:" = omit it
    sent_at = time.time()
    try:
        conn.request(req.method, target, body=req.body, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        merged: dict[str, str] = {}
        for name, value in resp.getheaders():
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        return Response(resp.status, merged, body, sent_at, time.time(), resp.reason)
    finally:
        conn.close()


def mask_volatile(body: bytes, start: float, end: float) -> bytes:
    """Replace values that legitimately differ per call (ids, "now") by their shape."""
    text = body.decode("utf-8", errors="surrogateescape")
    low, high = start - NOW_WINDOW_S, end + NOW_WINDOW_S

    def iso(match: re.Match) -> str:
        stamp = match.group(0).replace("Z", "").replace("+00:00", "").replace("-00:00", "")
        try:
            moment = datetime.fromisoformat(stamp).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            return match.group(0)
        return "<now-iso>" if low <= moment <= high else match.group(0)

    text = INSTANTIATED.sub('"instantiated_at":"<instantiated-at>"', text)
    text = UUID4.sub("<uuid4>", text)
    text = ISO.sub(iso, text)
    text = EPOCH.sub(lambda m: '"<now-epoch>"' if low <= int(m.group(1)) <= high else m.group(1), text)
    return text.encode("utf-8", errors="surrogateescape")


def _pairs(pairs: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Keep object key order and duplicates: byte identity includes both."""
    return [("\0obj", pairs)]


def _load(body: bytes) -> Any:
    """Parse JSON into order-preserving structures, or raise ValueError."""
    return json.loads(body.decode("utf-8"), object_pairs_hook=_pairs)


def _show(value: Any, limit: int = 200) -> str:
    """Render a parsed value back to compact JSON for the report."""
    def plain(v: Any) -> Any:
        if isinstance(v, list) and len(v) == 1 and isinstance(v[0], tuple) and v[0][0] == "\0obj":
            return {k: plain(x) for k, x in v[0][1]}
        return [plain(x) for x in v] if isinstance(v, list) else v
    text = json.dumps(plain(value), ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= limit else text[:limit] + f"…(+{len(text) - limit} chars)"


def first_difference(a: Any, b: Any, path: str = "$") -> str | None:
    """The JSON path and both values of the first difference, in document order."""
    a_obj = isinstance(a, list) and len(a) == 1 and isinstance(a[0], tuple) and a[0][0] == "\0obj"
    b_obj = isinstance(b, list) and len(b) == 1 and isinstance(b[0], tuple) and b[0][0] == "\0obj"
    if a_obj and b_obj:
        a_items, b_items = a[0][1], b[0][1]
        for i in range(max(len(a_items), len(b_items))):
            if i >= len(a_items) or i >= len(b_items) or a_items[i][0] != b_items[i][0]:
                a_keys, b_keys = [k for k, _ in a_items], [k for k, _ in b_items]
                return f"{path}: keys differ (from position {i})\n    A: {a_keys}\n    B: {b_keys}"
            found = first_difference(a_items[i][1], b_items[i][1], f"{path}.{a_items[i][0]}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and not a_obj and not b_obj:
        for i in range(min(len(a), len(b))):
            found = first_difference(a[i], b[i], f"{path}[{i}]")
            if found:
                return found
        if len(a) != len(b):
            return f"{path}: array length {len(a)} vs {len(b)}"
        return None
    if type(a) is type(b) and a == b:
        return None
    return f"{path}:\n    A: {_show(a)}\n    B: {_show(b)}"


def _byte_context(a: bytes, b: bytes) -> str:
    """Where two byte strings first differ, with a little context (non-JSON or formatting-only diffs)."""
    i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
    lo = max(0, i - 60)
    return (f"first differing byte at offset {i} (lengths {len(a)} vs {len(b)})\n"
            f"    A: {a[lo:i + 60]!r}\n    B: {b[lo:i + 60]!r}")


def compare(a: Response, b: Response, headers: tuple[str, ...] = DEFAULT_COMPARED_HEADERS) -> list[str]:
    """Every difference between two responses that the compatibility policy forbids; [] when equal."""
    problems = []
    if (a.status, a.reason) != (b.status, b.reason):
        problems.append(f"status: {a.status} {a.reason!r} vs {b.status} {b.reason!r}")
    for name in headers:
        if a.headers.get(name) != b.headers.get(name):
            problems.append(f"header {name}: {a.headers.get(name)!r} vs {b.headers.get(name)!r}")
    start, end = min(a.sent_at, b.sent_at), max(a.received_at, b.received_at)
    a_body, b_body = mask_volatile(a.body, start, end), mask_volatile(b.body, start, end)
    if a_body == b_body:
        return problems
    try:
        found = first_difference(_load(a_body), _load(b_body))
        problems.append(f"body at {found}" if found else "body: same JSON, different bytes: "
                        + _byte_context(a_body, b_body))
    except ValueError:
        problems.append("body: " + _byte_context(a_body, b_body))
    return problems


def replay(a_url: str, b_url: str, requests: list[Request],
           headers: tuple[str, ...] = DEFAULT_COMPARED_HEADERS, verbose: bool = False,
           out: Any = sys.stdout) -> int:
    """Send each request to A then B and report mismatches; returns how many requests differed."""
    mismatches = 0
    for req in requests:
        try:
            a, b = send(a_url, req), send(b_url, req)
        except OSError as exc:
            mismatches += 1
            print(f"ERROR {req.label()}: {exc}", file=out)
            continue
        problems = compare(a, b, headers)
        if not problems:
            if verbose:
                print(f"ok    {a.status} {req.label()}", file=out)
            continue
        mismatches += 1
        print(f"DIFF  {req.label()}", file=out)
        for problem in problems:
            print(f"  {problem}", file=out)
        if verbose:
            print(f"  A body: {a.body[:2000]!r}\n  B body: {b.body[:2000]!r}", file=out)
    print(f"{len(requests)} requests, {mismatches} mismatched ({a_url} vs {b_url})", file=out)
    return mismatches


def discover_db_id(base_url: str) -> str | None:
    """The reference's first db id (AgentOS /config), so corpora need not hard-code the DSN-derived id."""
    try:
        resp = send(base_url, Request("GET", "/config"))
        return json.loads(resp.body)["databases"][0] if resp.status == 200 else None
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; exit status 1 on any mismatch."""
    ap = argparse.ArgumentParser(description="Replay a request corpus against two servers and diff them.")
    ap.add_argument("--a", required=True, help="reference base URL (the real AgentOS)")
    ap.add_argument("--b", required=True, help="candidate base URL")
    ap.add_argument("--requests", required=True, type=Path, help="corpus file (format: see requests.txt)")
    ap.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                    help="value for {{NAME}} in the corpus; DB_ID defaults to A's /config databases[0]")
    ap.add_argument("--headers", default=",".join(DEFAULT_COMPARED_HEADERS),
                    help="response headers to compare (comma-separated; default: %(default)s)")
    ap.add_argument("--grep", default=None, help="only replay requests whose 'METHOD TARGET' contains this")
    ap.add_argument("-v", "--verbose", action="store_true", help="list passing requests and dump bodies")
    args = ap.parse_args(argv)
    variables = dict(v.split("=", 1) for v in args.var if "=" in v)
    text = args.requests.read_text(encoding="utf-8")
    if "{{DB_ID}}" in text and "DB_ID" not in variables:
        found = discover_db_id(args.a)
        if found:
            variables["DB_ID"] = found
            print(f"DB_ID={found} (from {args.a}/config)")
    try:
        requests = parse_corpus(text, str(args.requests), variables)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.grep:
        requests = [r for r in requests if args.grep in f"{r.method} {r.target}"]
    headers = tuple(h.strip().lower() for h in args.headers.split(",") if h.strip())
    return 1 if replay(args.a, args.b, requests, headers, args.verbose) else 0


if __name__ == "__main__":
    sys.exit(main())
