"""What a running AgentOS shows of its settings: its `GET /config` (databases and their ids) and how it guards it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

KEY_MISSING = "Authorization header required"  # AgentOS's 401 without a bearer when OS_SECURITY_KEY is set
OPEN, KEY, JWT = "open", "key", "jwt"


class Unreachable(Exception):
    """A server did not answer usefully; the message is the one line to print."""


@dataclass(frozen=True)
class AgentOsDatabase:
    """One database AgentOS keeps sessions in, as its /config names it."""

    db_id: str
    tables: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgentOsView:
    """AgentOS as seen from outside: its auth mode, whether our credential passed, its session databases."""

    url: str
    auth: str  # OPEN, KEY or JWT, from its answer to a request without credentials
    credential_refused: str | None = None  # AgentOS's 401 detail for the credential sent, when refused
    databases: tuple[AgentOsDatabase, ...] | None = None  # None: /config could not be read (no usable credential)
    config: dict[str, Any] = field(default_factory=dict)


def read_agentos(url: str, credential: str | None, timeout: float = 10.0) -> AgentOsView:
    """Ask AgentOS for /config without credentials (to learn its auth mode), then with `credential` if needed."""
    base = url.rstrip("/")
    status, body = get_json(f"{base}/config", None, timeout, "AgentOS")
    if status == 200:
        return AgentOsView(base, OPEN, databases=_databases(base, body), config=body)
    if status != 401:
        raise Unreachable(f"AgentOS at {base} answered GET /config with {status}: {detail(body)}")
    auth = auth_mode(status, body)
    if not credential:
        return AgentOsView(base, auth)
    status, body = get_json(f"{base}/config", credential, timeout, "AgentOS")
    if status == 200:
        return AgentOsView(base, auth, databases=_databases(base, body), config=body)
    if status in (401, 403):
        return AgentOsView(base, auth, credential_refused=f"{status} {detail(body)}")
    raise Unreachable(f"AgentOS at {base} answered GET /config with {status}: {detail(body)}")


def auth_mode(status: int, body: Any) -> str:
    """OPEN, KEY or JWT from the answer to a request sent without credentials (AgentOS's 401 wordings)."""
    if status != 401:
        return OPEN
    return KEY if detail(body) == KEY_MISSING else JWT


def get_json(url: str, credential: str | None, timeout: float, who: str) -> tuple[int, Any]:
    """One GET: the status and the decoded JSON body (None when it is not JSON); Unreachable names `who`."""
    headers = {"Accept": "application/json"}
    if credential:
        headers["Authorization"] = f"Bearer {credential}"
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, _json(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, _json(exc.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unreachable(f"cannot reach {who} at {url.split('/', 3)[2]}: {reason}") from None


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def detail(body: Any) -> str:
    """AgentOS's error detail, or a short account of an answer that has none."""
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return body["detail"]
    return "no JSON detail"


def _databases(base: str, body: Any) -> tuple[AgentOsDatabase, ...]:
    """The session databases of /config (`session.dbs`), else its flat `databases` list."""
    if not isinstance(body, dict):
        raise Unreachable(f"{base}/config did not answer a JSON object: is this an AgentOS?")
    session = body.get("session")
    entries = session.get("dbs") if isinstance(session, dict) else None
    if isinstance(entries, list):
        return tuple(AgentOsDatabase(str(e.get("db_id")), tuple(str(t) for t in e.get("tables") or ()))
                     for e in entries if isinstance(e, dict) and e.get("db_id"))
    if isinstance(body.get("databases"), list):
        return tuple(AgentOsDatabase(str(d)) for d in body["databases"])
    raise Unreachable(f"{base}/config names no databases: is this an AgentOS?")
