"""AGNO_WEBHOOKS_FILE: a valid file gives its subscriptions; each mistake is a ConfigError naming the file's line,
and a secret is never repeated in a message or a repr."""

from __future__ import annotations

import base64

import pytest

from service.core.config import ConfigError, load_settings
from service.core.webhook_subscriptions import Subscription, parse_subscriptions

KEY = base64.b64encode(bytes(range(32))).decode()
EXAMPLE = f"""\
subscriptions:
  - name: crm
    url: https://crm.example.com/hooks/agno
    secret: whsec_{KEY}
    events: [session.*, run.created]
    filters:
      type: agent
      user_id: ada
  - name: index
    url: http://indexer:9000/in
    secret: whsec_{KEY}
    events: session.created, session.deleted
"""


def test_a_valid_file_gives_its_subscriptions() -> None:
    crm, index = parse_subscriptions(EXAMPLE, "w.yaml")
    assert crm == Subscription(name="crm", url="https://crm.example.com/hooks/agno", key=bytes(range(32)),
                               events=("session.*", "run.created"), type="agent", user_id="ada", line=2)
    assert index.events == ("session.created", "session.deleted") and index.type is None and index.line == 9
    assert KEY not in repr(crm)


@pytest.mark.parametrize("text, line, words", [
    ("subscriptions: {}", 1, "must be a list"),
    ("subscriptions:\n  - name: a\n    url: ftp://x\n    secret: whsec_" + KEY, 3, "http:// or https://"),
    ("subscriptions:\n  - name: a\n    url: http://x\n", 2, "needs `secret`"),
    ("subscriptions:\n  - name: a\n    url: http://x\n    secret: plain-text-secret", 4, "Standard Webhooks secret"),
    ("subscriptions:\n  - name: a\n    url: http://x\n    secret: whsec_c2hvcnQ=", 4, "24 to 64 random bytes"),
    ("subscriptions:\n  - name: a\n    url: http://x\n    secret: whsec_" + KEY + "\n    events: [sessions]", 5,
     "not an event pattern"),
    ("subscriptions:\n  - name: a\n    url: http://x\n    secret: whsec_" + KEY + "\n    filters: {type: robot}", 5,
     "one of agent, team, workflow"),
    ("subscriptions:\n  - name: a\n    url: http://x\n    secret: whsec_" + KEY + "\n    retries: 3", 5,
     "unknown key `retries`"),
    ("subscriptions:\n  - name: a\n    url: http://x\n    secret: whsec_" + KEY
     + "\n  - name: a\n    url: http://y\n    secret: whsec_" + KEY, 5, "used twice (first on line 2)"),
    ("subscriptions:\n  - name: a\n    url: [http://x", 3, "not valid YAML"),
])
def test_each_mistake_names_its_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_subscriptions(text, "w.yaml")
    message = str(caught.value)
    assert message.startswith(f"AGNO_WEBHOOKS_FILE w.yaml, line {line}: ") and words in message, message
    assert "plain-text-secret" not in message


def test_the_settings_read_the_file_and_check_its_db_ids(tmp_path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(EXAMPLE.replace("    events: session.created", "    db_id: elsewhere\n    events: session.created"))
    with pytest.raises(ConfigError, match=r"line 9: subscription 'index': db_id 'elsewhere' is not one of"):
        load_settings({"AGNO_PG_DSN": "postgresql://u@h/db", "AGNO_WEBHOOKS_FILE": str(path)})
    path.write_text(EXAMPLE)
    settings = load_settings({"AGNO_PG_DSN": "postgresql://u@h/db", "AGNO_WEBHOOKS_FILE": str(path)})
    assert [s.name for s in settings.webhooks] == ["crm", "index"] and settings.deliver_metrics_port == 9464
