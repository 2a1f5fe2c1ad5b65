"""service/server/framing: where a request ends, decided on whatever pieces it arrives in."""

from __future__ import annotations

import pytest

from service.server.framing import RequestBuffer, Verdict

HEAD = b"GET /sessions HTTP/1.1\r\nHost: x\r\n\r\n"
POST = b"POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{\"a\": \"bc\"}"
CHUNKED = (b"POST /sessions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"4;ext=1\r\n{\"a\"\r\n7\r\n: \"bc\"}\r\n0\r\nX-Trailer: y\r\n\r\n")


def fed(data: bytes, step: int, max_head: int = 1024, max_body: int = 1024) -> tuple[RequestBuffer, list[Verdict]]:
    """`data` fed `step` bytes at a time; the verdict after each piece."""
    request = RequestBuffer(max_head, max_body)
    return request, [request.feed(data[i:i + step]) for i in range(0, len(data), step)]


EMPTY_CHUNKED = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"


@pytest.mark.parametrize("data", [HEAD, POST, CHUNKED, EMPTY_CHUNKED])
@pytest.mark.parametrize("step", [1, 2, 3, 7, 1000])
def test_a_request_is_ready_exactly_when_its_last_byte_arrives(data: bytes, step: int) -> None:
    request, verdicts = fed(data, step)
    assert verdicts[:-1] == [Verdict.WAIT] * (len(verdicts) - 1)
    assert verdicts[-1] is Verdict.READY
    assert request.end in (-1, len(data))  # -1: a request without a body ends with its head


def test_a_pipelined_request_behind_the_first_stays_buffered() -> None:
    request, verdicts = fed(POST + HEAD, 1000)
    assert verdicts == [Verdict.READY] and request.end == len(POST) and bytes(request.data) == POST + HEAD


@pytest.mark.parametrize(("data", "verdict"), [
    (b"G" * 1025, Verdict.LINE_TOO_LONG),
    (b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 200, Verdict.HEAD_TOO_LARGE),
    (b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 200 + b"\r\n", Verdict.HEAD_TOO_LARGE),  # whole, but over the limit
])
def test_a_head_over_the_limit_is_refused_without_waiting_for_its_end(data: bytes, verdict: Verdict) -> None:
    assert fed(data, 4096)[1][-1] is verdict


def test_a_head_of_exactly_the_limit_is_taken() -> None:
    line = b"GET /sessions HTTP/1.1\r\n"
    head = line + b"X-Pad: " + b"p" * (1024 - len(line) - 11) + b"\r\n\r\n"
    assert len(head) == 1024 and fed(head, 100)[1][-1] is Verdict.READY  # the limit counts the blank line too
    assert fed(head[:-4] + b"p\r\n\r\n", 100)[1][-1] is Verdict.HEAD_TOO_LARGE


@pytest.mark.parametrize("head", [
    b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",  # conflicting lengths
    b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",  # both framings
    b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",  # a coding gunicorn does not take
    b"POST / HTTP/1.1\r\nContent-Length: 2048\r\n\r\n",  # over the body limit: the app answers 413 unread
])
def test_framing_it_cannot_trust_goes_to_gunicorn_with_the_head(head: bytes) -> None:
    assert fed(head, 1000)[1] == [Verdict.READY]


@pytest.mark.parametrize("body", [b"zz\r\n", b"4\r\nabcdXX", b"5000\r\n"])
def test_a_malformed_or_oversized_chunked_body_goes_to_gunicorn(body: bytes) -> None:
    assert fed(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + body, 1000)[1] == [Verdict.READY]


def test_expect_continue_is_noticed_and_can_be_dropped_once_answered() -> None:
    request = RequestBuffer(1024, 1024)
    head = b"POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\nHost: x\r\n\r\n"
    assert request.feed(head) is Verdict.WAIT and request.expects_continue
    request.drop_expect()
    assert bytes(request.data) == b"POST / HTTP/1.1\r\nContent-Length: 2\r\nHost: x\r\n\r\n"
    assert not request.expects_continue and request.feed(b"{}") is Verdict.READY


def test_each_byte_is_looked_at_a_bounded_number_of_times() -> None:
    """A head fed one byte at a time resumes its search where it stopped, so the work grows with the size, not
    its square: the scan position follows the buffer instead of restarting at 0."""
    request = RequestBuffer(64 * 1024, 0)
    for _ in range(50_000):
        request.feed(b"a")
        assert request._scanned == len(request.data)
