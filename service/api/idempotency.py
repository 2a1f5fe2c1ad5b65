"""`@idempotent` routes honour the Idempotency-Key header (extension `idempotency-keys`): the first answer to a key is
kept with the write it made, and a retry gets it again, marked `Idempotent-Replayed: true`. Without the header a
route runs exactly as it would without the decorator (no query added)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import current_app, request
from werkzeug.wrappers import Response

from service.api.auth import current_caller
from service.api.databases import resolve_db
from service.api.inputs import read_body
from service.rules import idempotency as rules
from service.rules.errors import ApiError
from service.rules.validation.query import query_args
from service.storage import idempotency as keys
from service.storage.pool import Database


class _NotKept(Exception):
    """A server error (5xx): the claim and every write roll back, and a retry runs the request again."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def idempotent(view: Callable[..., Response]) -> Callable[..., Response]:
    """Wrap a writing route: with an Idempotency-Key, its writes and its answer (2xx or 4xx) are kept together in
    one transaction, or neither is; a 5xx keeps nothing."""

    @wraps(view)
    def keyed(*args: object, **kwargs: object) -> Response:
        header = request.headers.get(rules.HEADER)
        if header is None:
            return view(*args, **kwargs)
        key = rules.parsed_key(header)
        db = _database()
        if db is None:  # the route answers the same 400/404 for the db_id or table, and writes nothing
            return view(*args, **kwargs)
        settings = current_app.config["SETTINGS"]
        body = read_body(settings.max_body_bytes)
        fingerprint = rules.fingerprint(request.method, request.path,
                                        list(query_args(request.query_string).items(multi=True)), body)
        scope = rules.caller_scope(current_caller().user_id, settings.authenticated)
        try:
            with keys.claimed(db, scope, key, fingerprint, settings.idempotency_ttl,
                              settings.idempotency_wait) as claim:
                if claim.replay is not None:
                    if claim.replay.fingerprint != fingerprint:
                        raise ApiError(422, rules.REUSED)
                    return _replayed(claim.replay)
                response, failed = _answer(view, args, kwargs)
                if response.status_code >= 500:
                    raise _NotKept(response)
                claim.record(keys.Answer(fingerprint, response.status_code, _kept_headers(response),
                                         response.get_data()), undo_writes=failed)
                return response
        except _NotKept as not_kept:
            return not_kept.response
        except keys.KeyInFlight:
            raise ApiError(409, rules.IN_PROGRESS) from None
        except keys.KeysMissing:
            raise ApiError(503, rules.UNAVAILABLE) from None

    return keyed


def _database() -> Database | None:
    """The primary the route will write to, or None when the request names none the route would accept."""
    args = query_args(request.query_string)
    db_id, table = ((args.getlist(name) or [None])[-1] or None for name in ("db_id", "table"))  # the last, as parsed
    try:
        return resolve_db(current_app.config["SETTINGS"], current_app.config["REGISTRY"], db_id, table,
                          current_caller())
    except ApiError:
        return None


def _answer(view: Callable[..., Response], args: tuple, kwargs: dict) -> tuple[Response, bool]:
    """The route's answer, an error answered as the app's handlers answer it; and whether it was one (raised)."""
    try:
        return view(*args, **kwargs), False
    except Exception as exc:  # noqa: BLE001 - every error gets the app's own answer, kept when it is a 4xx
        return current_app.make_response(current_app.handle_user_exception(exc)), True


def _kept_headers(response: Response) -> list[list[str]]:
    """The headers the route set, as [name, value] pairs."""
    return [[name, value] for name, value in response.headers.items() if name.lower() not in rules.NOT_REPLAYED]


def _replayed(answer: keys.Answer) -> Response:
    """The kept answer again, byte for byte, marked as a replay."""
    response = Response(answer.body, status=answer.status)
    response.headers.clear()
    for name, value in answer.headers:
        response.headers.add(name, value)
    if answer.body or answer.status != 204:
        response.headers["Content-Length"] = str(len(answer.body))
    response.headers[rules.REPLAYED_HEADER] = "true"
    return response
