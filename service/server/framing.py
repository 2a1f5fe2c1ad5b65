"""Where a buffered HTTP/1.1 request ends, found incrementally in linear time, so a worker thread gets it whole.

Only framing is judged here (end of head, Content-Length, chunked body, Expect): anything malformed is handed to
gunicorn's parser as it is, which answers it with its own 400s; nothing here decides what a request means.
"""

from __future__ import annotations

import re
from enum import Enum

_HEAD_END = b"\r\n\r\n"
_FIELD = re.compile(rb"\r\n([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*:[ \t]*([^\r\n]*?)[ \t]*(?=\r\n)")
_CHUNK_LINE_MAX = 4096  # a chunk-size line longer than this is malformed; gunicorn answers it


class Verdict(Enum):
    """What the worker's event loop does next with a connection."""

    WAIT = "wait"  # more bytes are needed
    READY = "ready"  # a whole request (or something malformed that gunicorn answers) is buffered: hand it over
    HEAD_TOO_LARGE = "head too large"  # no end of head within the limit: 431, without parsing
    LINE_TOO_LONG = "line too long"  # the request line alone is over the limit: 414


class RequestBuffer:
    """The bytes of one request as they arrive, and how far their framing has been read."""

    __slots__ = ("data", "max_head", "max_body", "head_end", "_scanned", "_chunk_pos", "_body_bytes",
                 "content_length", "chunked", "expects_continue", "end")

    def __init__(self, max_head: int, max_body: int, data: bytes = b"") -> None:
        self.data = bytearray(data)
        self.max_head = max_head
        self.max_body = max_body
        self.head_end = -1  # index just past the head's blank line, once found
        self._scanned = 0  # where the search for the head's end resumes
        self._chunk_pos = -1  # where the chunked-body scan resumes
        self._body_bytes = 0
        self.content_length: int | None = None
        self.chunked = False
        self.expects_continue = False  # the client waits for `100 Continue` before it sends the body
        self.end = -1  # index just past the request, once known

    def feed(self, chunk: bytes) -> Verdict:
        """Append `chunk` and say whether the request is complete."""
        self.data += chunk
        return self.verdict()

    def verdict(self) -> Verdict:
        """The state of what is buffered; each byte is looked at a bounded number of times across calls."""
        if self.head_end < 0:
            found = self.data.find(_HEAD_END, max(0, self._scanned - 3))
            if found < 0:
                self._scanned = len(self.data)
                if len(self.data) < self.max_head:
                    return Verdict.WAIT
                return self._too_large()
            self.head_end = found + 4
            if self.head_end > self.max_head:  # the limit counts the head with its blank line
                return self._too_large()
            if not self._read_framing():
                return Verdict.READY
        return self._body_verdict()

    def _too_large(self) -> Verdict:
        """414 when the request line alone does not fit the limit, else 431."""
        ends_line = self.data.find(b"\r\n", 0, self.max_head)
        return Verdict.LINE_TOO_LONG if ends_line < 0 else Verdict.HEAD_TOO_LARGE

    def buffered_body(self) -> int:
        """Body bytes held so far (what a memory budget counts)."""
        return max(0, len(self.data) - self.head_end) if self.head_end >= 0 else 0

    def drop_expect(self) -> None:
        """Remove the `Expect: 100-continue` field once this side has answered it, so it is not answered twice."""
        head = bytes(self.data[:self.head_end])
        kept = re.sub(rb"(?i)\r\nexpect[ \t]*:[ \t]*100-continue[ \t]*(?=\r\n)", b"", head, count=1)
        self.data[:self.head_end] = kept
        self.head_end = len(kept)
        self._scanned = self.head_end
        self.expects_continue = False

    def _read_framing(self) -> bool:
        """Read the body's framing from the head; False when the head alone goes to gunicorn (it decides)."""
        lengths, codings = [], []
        for name, value in _FIELD.findall(bytes(self.data[:self.head_end - 2])):
            lowered = name.lower()
            if lowered == b"content-length":
                lengths.append(value)
            elif lowered == b"transfer-encoding":
                codings.append(value.lower())
            elif lowered == b"expect" and value.lower() == b"100-continue":
                self.expects_continue = True
        if codings:
            if lengths or [c.strip() for c in b",".join(codings).split(b",")] != [b"chunked"]:
                return False  # ambiguous or unsupported framing: gunicorn refuses it
            self.chunked = True
            self._chunk_pos = self.head_end
            return True
        if not lengths:
            self.content_length = 0
            return True
        if len(set(lengths)) != 1 or not lengths[0].isdigit() or len(lengths[0]) > 18:
            return False
        self.content_length = int(lengths[0])
        return self.content_length <= self.max_body  # an oversized body: the app answers 413 without reading it

    def _body_verdict(self) -> Verdict:
        if self.content_length is not None:
            if len(self.data) - self.head_end < self.content_length:
                return Verdict.WAIT
            self.end = self.head_end + self.content_length
            return Verdict.READY
        if not self.chunked:
            return Verdict.READY
        return self._scan_chunks()

    def _scan_chunks(self) -> Verdict:
        """Walk chunk-size lines from where the last call stopped; READY at the last chunk's end or on bad framing."""
        data, pos = self.data, self._chunk_pos
        while True:
            line_end = data.find(b"\r\n", pos, pos + _CHUNK_LINE_MAX)
            if line_end < 0:
                return Verdict.WAIT if len(data) - pos < _CHUNK_LINE_MAX else Verdict.READY
            size_text = bytes(data[pos:line_end]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                return Verdict.READY
            start = line_end + 2
            if size == 0:
                if data[start:start + 2] == b"\r\n":
                    self.end = start + 2
                    return Verdict.READY
                trailer_end = data.find(_HEAD_END, start - 2)
                if trailer_end < 0:
                    self._chunk_pos = pos
                    return Verdict.WAIT if len(data) - start < self.max_head else Verdict.READY
                self.end = trailer_end + 4
                return Verdict.READY
            self._body_bytes += size
            if self._body_bytes > self.max_body:
                return Verdict.READY  # the app reads one byte past its limit and answers 413
            if len(data) < start + size + 2:
                self._body_bytes -= size
                self._chunk_pos = pos
                return Verdict.WAIT
            if data[start + size:start + size + 2] != b"\r\n":
                return Verdict.READY
            pos = start + size + 2
            self._chunk_pos = pos
