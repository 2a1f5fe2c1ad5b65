"""Per-user conversation memory with one interface: bounded in process, or persisted in agno's runs table."""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from service.auth.caller import Caller
from service.storage import memory as store
from service.storage.errors import MemorySessionConflict
from service.storage.pool import Database

__all__ = ["CallerMemory", "ConversationMemory", "Memory", "MemorySessionConflict", "StoreMemory", "bounded",
           "normalize_user_id"]

DEFAULT_USER = "default"
MAX_USER_ID_LENGTH = 255


def normalize_user_id(user_id: object) -> str:
    """One rule for every call: "" means "default"; otherwise a str of at most 255 characters without NUL."""
    if not isinstance(user_id, str):
        raise ValueError(f"user_id must be a str, not {type(user_id).__name__}")
    if user_id == "":
        return DEFAULT_USER
    if len(user_id) > MAX_USER_ID_LENGTH:
        raise ValueError(f"user_id must be at most {MAX_USER_ID_LENGTH} characters, got {len(user_id)}")
    if "\x00" in user_id:
        raise ValueError("user_id must not contain NUL characters")
    return user_id


def _check_message(message: object) -> dict[str, Any]:
    """A private deep copy of a valid message, so later changes by the caller cannot reach the memory."""
    if not isinstance(message, Mapping):
        raise ValueError(f"message must be a dict, not {type(message).__name__}")
    role = message.get("role")
    if not isinstance(role, str) or not role:
        raise ValueError("message must have a non-empty str 'role'")
    return copy.deepcopy(dict(message))


def _is_system(message: Mapping[str, Any]) -> bool:
    """System messages are the ones the bound keeps longest."""
    return message.get("role") == "system"


def _check_positive(name: str, value: object) -> None:
    """Bounds of zero or less would make memory useless or unbounded: refuse them up front."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")


def bounded(messages: list[dict[str, Any]], bound: int) -> list[dict[str, Any]]:
    """The bound's rule in one place: keep the newest system messages (up to the bound), fill the rest with the
    newest others, and keep the original order."""
    if len(messages) <= bound:
        return messages
    system = [i for i, m in enumerate(messages) if _is_system(m)]
    other = [i for i, m in enumerate(messages) if not _is_system(m)]
    system_kept = min(len(system), bound)
    other_kept = bound - system_kept
    keep = set(system[len(system) - system_kept:]) | set(other[len(other) - other_kept:] if other_kept else [])
    return [m for i, m in enumerate(messages) if i in keep]


class Memory(Protocol):
    """What every memory offers; the user is an argument of each call, never shared state."""

    def add(self, user_id: str, message: Mapping[str, Any]) -> None: ...

    def get_messages(self, user_id: str) -> list[dict[str, Any]]: ...

    def clear(self, user_id: str) -> None: ...

    def clear_all(self) -> None: ...

    def size(self, user_id: str) -> int: ...


class _Tenant:
    """One user's messages and when they were last used (for idle eviction)."""

    __slots__ = ("messages", "last_used")

    def __init__(self, now: float) -> None:
        self.messages: list[dict[str, Any]] = []
        self.last_used = now


class ConversationMemory:
    """In-process memory: bounded per user and across users, so no tenant mix of traffic can exhaust RAM."""

    def __init__(self, max_messages_per_user: int = 100, max_users: int = 1000, idle_seconds: float = 3600,
                 clock: Callable[[], float] = time.monotonic) -> None:
        _check_positive("max_messages_per_user", max_messages_per_user)
        _check_positive("max_users", max_users)
        _check_positive("idle_seconds", idle_seconds)
        self.max_messages_per_user = int(max_messages_per_user)
        self.max_users = int(max_users)
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._lock = threading.Lock()  # one lock: every operation is short, and correctness comes first
        self._tenants: OrderedDict[str, _Tenant] = OrderedDict()  # least recently used first

    def _evict_idle(self, now: float) -> None:
        """Forget users idle longer than idle_seconds (the LRU order puts them first); caller holds the lock."""
        while self._tenants:
            user_id, tenant = next(iter(self._tenants.items()))
            if now - tenant.last_used <= self.idle_seconds:
                break
            del self._tenants[user_id]

    def _touch(self, user_id: str, now: float, create: bool) -> _Tenant | None:
        """The user's tenant, marked most recently used; caller holds the lock."""
        tenant = self._tenants.get(user_id)
        if tenant is None:
            if not create:
                return None
            tenant = self._tenants[user_id] = _Tenant(now)
        tenant.last_used = now
        self._tenants.move_to_end(user_id)
        return tenant

    def add(self, user_id: str, message: Mapping[str, Any]) -> None:
        """Append a message; the user's oldest non-system message (else oldest system one) makes room."""
        user_id = normalize_user_id(user_id)
        message = _check_message(message)
        with self._lock:
            now = self._clock()
            self._evict_idle(now)
            tenant = self._touch(user_id, now, create=True)
            messages = tenant.messages
            messages.append(message)
            while len(messages) > self.max_messages_per_user:
                drop = next((i for i, m in enumerate(messages) if not _is_system(m)), 0)
                del messages[drop]
            while len(self._tenants) > self.max_users:
                self._tenants.popitem(last=False)

    def get_messages(self, user_id: str) -> list[dict[str, Any]]:
        """Copies of the user's messages, oldest first; the caller cannot change what is stored."""
        user_id = normalize_user_id(user_id)
        with self._lock:
            now = self._clock()
            self._evict_idle(now)
            tenant = self._touch(user_id, now, create=False)
            return copy.deepcopy(tenant.messages) if tenant else []

    def clear(self, user_id: str) -> None:
        """Forget one user."""
        user_id = normalize_user_id(user_id)
        with self._lock:
            self._tenants.pop(user_id, None)

    def clear_all(self) -> None:
        """Forget every user."""
        with self._lock:
            self._tenants.clear()

    def size(self, user_id: str) -> int:
        """How many messages the user has (an idle-expired user has none)."""
        user_id = normalize_user_id(user_id)
        with self._lock:
            self._evict_idle(self._clock())
            tenant = self._tenants.get(user_id)
            return len(tenant.messages) if tenant else 0

    def users(self) -> list[str]:
        """The users currently held, least recently used first (observability, tests)."""
        with self._lock:
            return list(self._tenants)


class StoreMemory:
    """Memory in agno's tables: one agent session per user, one run per message, so every worker and restart
    sees the same history and AgentOS shows it as chat_history."""

    def __init__(self, db: Database, max_messages_per_user: int = 100, agent_id: str = "memory",
                 clock: Callable[[], float] = time.time) -> None:
        _check_positive("max_messages_per_user", max_messages_per_user)
        if not isinstance(agent_id, str) or not agent_id or "\x00" in agent_id or ":" in agent_id:
            raise ValueError("agent_id must be a non-empty str without NUL or ':'")
        self.db = db
        self.max_messages_per_user = int(max_messages_per_user)
        self.agent_id = agent_id
        self._clock = clock

    def session_id(self, user_id: str) -> str:
        """The user's memory session: `<agent_id>:<user_id>` (e.g. `memory:alice`)."""
        return f"{self.agent_id}:{normalize_user_id(user_id)}"

    def _params(self, user_id: str) -> dict[str, Any]:
        """Bind values naming one user's memory session."""
        user_id = normalize_user_id(user_id)
        return {"user_id": user_id, "agent_id": self.agent_id, "session_id": f"{self.agent_id}:{user_id}"}

    def _run_data(self, params: dict[str, Any], run_id: str, now: int, message: dict[str, Any]) -> dict[str, Any]:
        """The run in agno's RunOutput.to_dict() shape (None-valued keys left out)."""
        run: dict[str, Any] = {
            "run_id": run_id, "agent_id": self.agent_id, "session_id": params["session_id"],
            "user_id": params["user_id"], "status": "COMPLETED", "created_at": now, "messages": [message],
        }
        if message["role"] == "user":
            run["input"] = {"input_content": message.get("content")}
        elif message["role"] == "assistant" and message.get("content") is not None:
            run["content"] = message["content"]
        return run

    def add(self, user_id: str, message: Mapping[str, Any]) -> None:
        """Append one run in one transaction under the user's advisory lock, trimming to the bound."""
        params = self._params(user_id)
        message = _check_message(message)
        now = int(self._clock())
        run_id = str(uuid.uuid4())
        message.setdefault("id", str(uuid.uuid4()))
        message.setdefault("created_at", now)
        store.add_message(self.db, params, run_id, self._run_data(params, run_id, now, message), now,
                          self.max_messages_per_user)

    def get_messages(self, user_id: str) -> list[dict[str, Any]]:
        """The user's messages in agno's run order, bounded by the same rule as the in-process memory."""
        stored = store.message_lists(self.db, self._params(user_id))
        messages = [m for ms in stored if isinstance(ms, list) for m in ms if isinstance(m, dict)]
        return bounded(messages, self.max_messages_per_user)

    def clear(self, user_id: str) -> None:
        """Delete the user's memory session (its runs go with it), serialised with that user's adds."""
        store.delete_user(self.db, self._params(user_id))

    def clear_all(self) -> None:
        """Delete every memory session of this agent_id, and nothing else."""
        store.delete_agent(self.db, self.agent_id)

    def size(self, user_id: str) -> int:
        """How many messages the user has, counted in the database (trimming keeps exactly min(total, bound))."""
        return min(store.message_count(self.db, self._params(user_id)), self.max_messages_per_user)


class CallerMemory:
    """A memory seen through a request's Caller, as the API applies a token: an isolated caller reaches only its
    own history whatever user_id it names (MissingIdentity without a `sub`); others pass through unchanged."""

    def __init__(self, memory: Memory, caller: Caller) -> None:
        self.memory, self.caller = memory, caller

    def add(self, user_id: str, message: Mapping[str, Any]) -> None:
        self.memory.add(self.caller.owner(user_id), message)  # type: ignore[arg-type]

    def get_messages(self, user_id: str) -> list[dict[str, Any]]:
        return self.memory.get_messages(self.caller.owner(user_id))  # type: ignore[arg-type]

    def clear(self, user_id: str) -> None:
        self.memory.clear(self.caller.owner(user_id))  # type: ignore[arg-type]

    def clear_all(self) -> None:
        """Everyone's memory, or only the caller's own when it is isolated."""
        if self.caller.isolated:
            self.memory.clear(self.caller.owner(None))  # type: ignore[arg-type]
        else:
            self.memory.clear_all()

    def size(self, user_id: str) -> int:
        return self.memory.size(self.caller.owner(user_id))  # type: ignore[arg-type]
