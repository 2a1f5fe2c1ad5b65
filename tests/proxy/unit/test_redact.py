"""Nothing the proxy writes down carries a credential; the curl repro reads it from the environment."""

from __future__ import annotations

import shlex

from proxy import redact


def test_headers_and_query_tokens_are_redacted() -> None:
    assert redact.headers([("Authorization", "Bearer s3cret"), ("Cookie", "a=b"), ("Accept", "*/*")]) == [
        ("Authorization", "[REDACTED]"), ("Cookie", "[REDACTED]"), ("Accept", "*/*")]
    assert redact.target("/sessions?user_id=u&access_token=abc&api_key=k&limit=2") == (
        "/sessions?user_id=u&access_token=%5BREDACTED%5D&api_key=%5BREDACTED%5D&limit=2")


def test_curl_repro_has_no_secret_and_keeps_the_target_verbatim() -> None:
    command = redact.curl("http://127.0.0.1:8080", "PATCH", "/sessions/a%2Fb?token=t",
                          [("Authorization", "Bearer s3cret"), ("Content-Type", "application/json"),
                           ("Host", "x"), ("x-agno-shadow", "1")], b'{"session_name":"n"}')
    assert "s3cret" not in command and "token=t" not in command and "Host" not in command
    argv = shlex.split(command)
    assert argv[:7] == ["curl", "-sS", "-i", "--path-as-is", "-X", "PATCH",
                        "http://127.0.0.1:8080/sessions/a%2Fb?token=%5BREDACTED%5D"]
    assert "Authorization: ${AGNO_SHADOW_AUTH}" in argv and argv[-1] == '{"session_name":"n"}'
