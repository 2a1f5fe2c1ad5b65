"""The retention policy file: the issue's shape is read as written, and every mistake is refused with the file's
line."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.core.config import load_settings
from service.core.env import ConfigError
from service.core.retention_policies import Policy, parse_policies

EXAMPLE = """\
policies:
  - name: free-tier-support
    match: {session_type: agent, component_id: support-bot, metadata: {tier: free, level: 2}}
    after: 90d              # s, m, h, d
    basis: last_activity
    action: archive
  - name: long-chats
    after: 12h
    basis: created
    action: trim_runs
    keep_last: 50
"""


def test_the_issue_shape_is_read() -> None:
    assert parse_policies(EXAMPLE, "r.yaml") == (
        Policy(name="free-tier-support", after=90 * 86400, action="archive", session_type="agent",
               component_id="support-bot", metadata=(("tier", "free"), ("level", "2")), line=2),
        Policy(name="long-chats", after=12 * 3600, action="trim_runs", basis="created", keep_last=50, line=7),
    )


@pytest.mark.parametrize(("text", "line", "words"), [
    ("policies:\n  - name: a\n    after: 90d\n    action: archive\n    colour: red\n", 5, "unknown key `colour`"),
    ("policies:\n  - name: a\n    after: 90 days\n    action: archive\n", 3, "`after` must be a whole number"),
    ("policies:\n  - name: a\n    after: 0d\n    action: archive\n", 3, "more than 0"),
    ("policies:\n  - name: a\n    after: 90\n    action: archive\n", 3, "`after`"),
    ("policies:\n  - name: a\n    after: 9d\n    action: delete\n    keep_last: 5\n", 5,
     "`keep_last` is for action trim_runs only"),
    ("policies:\n  - name: a\n    after: 9d\n    action: trim_runs\n", 4, "needs `keep_last`"),
    ("policies:\n  - name: a\n    after: 9d\n    action: trim_runs\n    keep_last: -1\n", 5, "`keep_last` must be"),
    ("policies:\n  - name: a\n    after: 9d\n    action: shred\n", 4, "`action` must be one of"),
    ("policies:\n  - name: a\n    after: 9d\n    action: delete\n    basis: touched\n", 5, "`basis` must be one of"),
    ("policies:\n  - name: a\n    after: 9d\n    action: delete\n    match: {session_type: bot}\n", 5,
     "`match.session_type` must be one of"),
    ("policies:\n  - name: a\n    after: 9d\n    action: delete\n    match: {user: x}\n", 5, "unknown key `user`"),
    ("policies:\n  - name: a\n    after: 9d\n    action: delete\n    match: {metadata: {tier: [a]}}\n", 5,
     "`match.metadata.tier`"),
    ("policies:\n  - name: a\n    after: 9d\n  - name: a\n    after: 1d\n    action: delete\n", 2, "needs `action`"),
    ("policies:\n  - {name: a, after: 9d, action: delete}\n  - {name: a, after: 1d, action: delete}\n", 3,
     "used twice (first on line 2)"),
    ("policies:\n  - name: a\n    name: b\n    after: 9d\n    action: delete\n", 3, "`name` is given twice"),
    ("policies:\n  - name: a\n   after: 9d\n", 3, "not valid YAML"),
    ("policy: []\n", 1, "unknown key `policy`"),
    ("policies: {name: a}\n", 1, "a list of policies"),
    ("", None, "the file must be a mapping"),
])
def test_mistakes_name_their_line(text: str, line: int | None, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_policies(text, "r.yaml")
    message = str(caught.value)
    assert message.startswith(f"AGNO_RETENTION_FILE r.yaml{f', line {line}' if line else ''}: "), message
    assert words in message


def test_the_settings_read_the_file_at_start(tmp_path) -> None:
    path = tmp_path / "retention.yaml"
    path.write_text(EXAMPLE, encoding="utf-8")
    env = {"AGNO_PG_DSN": "postgresql://x@localhost/db"}
    settings = load_settings({**env, "AGNO_RETENTION_FILE": str(path)})
    assert [p.name for p in settings.retention_policies] == ["free-tier-support", "long-chats"]
    path.write_text("policies:\n  - name: a\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 2: a policy needs `after`"):
        load_settings({**env, "AGNO_RETENTION_FILE": str(path)})
    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings({**env, "AGNO_RETENTION_FILE": str(tmp_path / "missing.yaml")})
    with pytest.raises(ConfigError, match="AGNO_METRICS_PUSHGATEWAY"):
        load_settings({**env, "AGNO_METRICS_PUSHGATEWAY": "pushgateway:9091"})


def test_the_shipped_examples_are_valid() -> None:
    """The Compose example and the chart's CI policies pass the same checks the job makes at start."""
    import yaml

    from service.core.retention_policies import load_policies

    root = Path(__file__).resolve().parents[2]
    assert load_policies(root / "deploy" / "compose" / "retention.yaml")
    values = yaml.safe_load((root / "deploy" / "helm" / "agno-session" / "ci" / "full-values.yaml").read_text())
    assert parse_policies(yaml.safe_dump(values["retention"]["policies"]), "full-values.yaml")
