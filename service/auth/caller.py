"""Who is asking, as the token says: one object the HTTP layer and the libraries both apply the same way, so
a scoped caller's `sub` replaces every user filter wherever sessions are read or written."""

from __future__ import annotations

from dataclasses import dataclass

MISSING_IDENTITY = "Authenticated request is missing a user identity"


class MissingIdentity(PermissionError):
    """User isolation is on and the caller has no (non-empty) `sub`: it may own nothing, so it may do nothing."""

    def __init__(self) -> None:
        super().__init__(MISSING_IDENTITY)


@dataclass(frozen=True)
class Caller:
    """The identity a request (or library call) acts with. `user_id` is the token's non-empty `sub`; `isolated`
    means per-user isolation applies (JWT mode, isolation on, no admin scope); `tenant` pins the databases; `admin`
    allows the admin-only extensions."""

    user_id: str | None = None
    isolated: bool = False
    tenant: str | None = None
    admin: bool = True  # may use admin-only extensions (legal holds): always outside JWT mode, else the admin scope

    def owner(self, requested: str | None) -> str | None:
        """The user filter to apply: an isolated caller's own id whatever was asked, otherwise what was asked."""
        if not self.isolated:
            return requested
        if not self.user_id:
            raise MissingIdentity()
        return self.user_id

    def stamp(self, requested: str | None) -> str | None:
        """The owner a new session gets: the token's `sub` when it has one (AgentOS stamps it, admins too), else
        what was asked; an isolated caller without identity creates nothing."""
        if self.user_id:
            return self.user_id
        if self.isolated:
            raise MissingIdentity()
        return requested


UNRESTRICTED = Caller()  # no JWT mode, OS_SECURITY_KEY or an admin without `sub`: AgentOS's unscoped behaviour
