"""pydantic-core's string → int and string → bool rules, character for character."""

from __future__ import annotations

import re

# Rust's char::is_whitespace (Unicode White_Space): what pydantic-core trims around integers.
_RUST_WS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
    "\u2028\u2029\u202f\u205f\u3000"
_JSON_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_DIGIT_RUN = re.compile(r"-?([1-9][0-9]*)")
FALSE_WORDS = {"0", "f", "n", "no", "off", "false"}  # pydantic's false strings (render's lax_bool uses them too)
TRUE_WORDS = {"1", "t", "y", "on", "yes", "true"}


def parse_int(raw: str) -> int | str:
    """pydantic-core's str→int (jiter first, then the cleaned string); returns the int or the error type."""
    run = _DIGIT_RUN.match(raw)
    if run and len(run.group(1)) > 4300:
        return "int_parsing_size"
    if _JSON_INT.fullmatch(raw):
        return int(raw)
    cleaned = _clean_int(raw)
    if cleaned is not None and _JSON_INT.fullmatch(cleaned) and len(cleaned.lstrip("-")) <= 4300:
        return int(cleaned)
    return "int_parsing"


def _clean_int(s: str) -> str | None:
    """pydantic-core's clean_int_str: trim, one sign, leading zeros, `.0+`, single underscores."""
    before = len(s)
    s = s.strip(_RUST_WS)
    if s.startswith("+"):
        if s[1:].startswith("-"):
            return None
        s = s[1:]
    sign = ""
    if s.startswith("-"):
        if s[1:2] in ("-", "+"):
            return None
        sign, s = "-", s[1:]
    s = _strip_leading_zeros(s)
    if s is None:
        return None
    dot = s.find(".")
    if dot >= 0 and s[dot + 1:] and set(s[dot + 1:]) == {"0"}:
        s = s[:dot]
    if "_" in s and not (s.startswith("_") or s.endswith("_") or "__" in s):
        return sign + s.replace("_", "")
    return None if before == len(s) else sign + s


def _strip_leading_zeros(s: str) -> str | None:
    """pydantic-core's strip_leading_zeros, char for char."""
    if not s or not (s[0] == "0" or s[0] in "123456789-"):
        return None
    if s[0] != "0":
        return s
    for i, c in enumerate(s[1:], 1):
        if c in "0_":
            continue
        if c in "123456789-":
            return s[i:]
        if c == ".":
            return s[i - 1:]
        return None
    return s[-1]


def parse_bool(raw: str) -> bool | None:
    """pydantic-core's str→bool (ASCII case-insensitive, no trimming); None when not a boolean."""
    word = raw.lower() if raw.isascii() else raw
    return False if word in FALSE_WORDS else True if word in TRUE_WORDS else None


def expected(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]

