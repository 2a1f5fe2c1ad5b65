"""Standard Webhooks signatures and the retry schedule."""

from __future__ import annotations

import base64

from service.rules.webhook_signature import headers, retry_delay, signature


def test_the_signature_matches_the_standard_webhooks_test_vector() -> None:
    """The example of the Standard Webhooks specification (its reference libraries test the same values)."""
    key = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    assert signature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}') == \
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_headers_carry_id_timestamp_and_signature() -> None:
    sent = headers(b"k" * 24, "evt_1", 1700000000, b"{}")
    assert sent["webhook-id"] == "evt_1" and sent["webhook-timestamp"] == "1700000000"
    assert sent["webhook-signature"] == signature(b"k" * 24, "evt_1", 1700000000, b"{}")
    assert sent["content-type"] == "application/json"


def test_the_retry_delay_doubles_to_an_hour() -> None:
    delays = [retry_delay(n) for n in range(1, 14)]
    assert delays[:4] == [5, 10, 20, 40] and delays[-1] == 3600 and delays == sorted(delays)
    total, attempts = 0.0, 0
    while total < 24 * 3600:
        attempts += 1
        total += retry_delay(attempts)
    assert 25 <= attempts <= 35  # about 30 attempts fit in the 24-hour window
