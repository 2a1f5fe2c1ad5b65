"""Single rules of the render layer. Expected values were recorded from agno 3.1.10 unless marked DEVIATION
(AgentOS answers 500 there; the expected value is our chosen rendering, listed in docs/compatibility.md)."""

from __future__ import annotations

import json
import re

import pytest

from service.rules import agno, render
from service.rules.agno import summary_dict, summary_errors
from service.rules.render import messages, runs
from tests.support.render_cases import message, row

NOW = 1795319595  # what `now` stands in for wherever agno would take the time


def compact(value: object) -> str:
    """How the HTTP layer serialises: compact separators, non-ASCII kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def list_item(r: dict, run_list: list) -> str:
    return compact(render.session_list_item(r, render.session_name(r, run_list, for_list=True)))


def detail(r: dict, run_list: list, as_type: str, *, nulls: bool = False) -> str:
    shape = render.session_detail(r, run_list, as_type, now=NOW)
    return compact(shape if nulls else render.drop_none(shape))


# ---------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (1767225600, "2026-01-01T00:00:00Z"),
        (1767225600.5, "2026-01-01T00:00:00.500000Z"),
        (-1, "1969-12-31T23:59:59Z"),
        ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        ("2026-01-01T00:00:00", "2026-01-01T00:00:00"),
        ("nope", None),
        (None, None),
    ],
)
def test_iso_utc(value: object, expected: str | None) -> None:
    assert render.iso_utc(value) == expected


def test_iso_utc_out_of_range_is_left_out() -> None:
    # DEVIATION: AgentOS raises (500) on an unrepresentable epoch.
    assert render.iso_utc(10**20) is None


def test_from_iso_accepts_z_like_python_311() -> None:
    assert agno.from_iso("2026-01-01T02:00:00Z").isoformat() == "2026-01-01T02:00:00+00:00"


# ---------------------------------------------------------------- session type and list items


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ({"session_type": "team"}, "team"),
        ({"session_type": "", "agent_id": None, "team_id": "t"}, "team"),
        ({"session_type": None, "agent_id": None, "workflow_id": "w"}, "workflow"),
        ({"session_type": None, "agent_id": None}, "agent"),
    ],
)
def test_detect_session_type(columns: dict, expected: str) -> None:
    assert agno.detect_session_type(row(**columns)) == expected


def test_bare_agent_row() -> None:
    r = row(session_id="agent-sess-3", created_at=1767232800, updated_at=1767232800)
    assert list_item(r, []) == (
        '{"session_id":"agent-sess-3","session_name":"","created_at":"2026-01-01T02:00:00Z",'
        '"updated_at":"2026-01-01T02:00:00Z","session_type":"agent","agent_id":"basic-agent"}'
    )
    assert detail(r, [], "agent") == (
        '{"agent_session_id":"agent-sess-3","session_id":"agent-sess-3","session_name":"","agent_id":"basic-agent",'
        '"chat_history":[],"created_at":"2026-01-01T02:00:00Z","updated_at":"2026-01-01T02:00:00Z"}'
    )


def test_list_timestamps_no_fallback_and_epoch_zero_kept() -> None:
    assert list_item(row(created_at=0, updated_at=None), []) == (
        '{"session_id":"s-1","session_name":"","created_at":"1970-01-01T00:00:00Z","session_type":"agent",'
        '"agent_id":"basic-agent"}'
    )


def test_list_metrics() -> None:
    assert list_item(row(session_data={"session_metrics": {}}), []).endswith('"metrics":{}}')
    assert '"metrics"' not in list_item(row(session_data={"session_metrics": None}), [])
    item = render.session_list_item(row(session_data={"session_metrics": {"total_tokens": 60.0}}), "")
    assert item["total_tokens"] == 60 and isinstance(item["total_tokens"], int)


def test_sdk_label_merged_into_metadata_of_agent_rows_only() -> None:
    ext = {"agent_data": {"name": "Ext", "sdk": "langgraph"}, "metadata": {"sdk": "old", "a": 1}}
    assert '"metadata":{"sdk":"langgraph","a":1}' in list_item(row(**ext), [])
    assert '"metadata":{"sdk":"crewai"}' in list_item(row(agent_data={"framework": "crewai"}), [])
    team = row(session_type="team", agent_id=None, team_id="t", **ext)
    assert '"metadata":{"sdk":"old","a":1}' in list_item(team, [])


# ---------------------------------------------------------------- session_name


NAMED_BY_INPUT = [
    {
        "run_id": "a",
        "agent_id": "x",
        "messages": [message("m1", "user", "", 1), message("m2", "assistant", "hi", 1)],
        "input": {"input_content": "no messages stored", "images": [{"url": "http://i", "id": "img"}]},
    },
    {"run_id": "b", "agent_id": "x", "messages": [message("m3", "user", "second", 1)]},
]


def test_name_from_input_list_keeps_stored_order_detail_rewrites_it() -> None:
    assert render.session_name(row(), NAMED_BY_INPUT, for_list=True) == (
        '{\n  "input_content": "no messages stored",\n  "images": [\n    {\n      "url": "http://i",\n'
        '      "id": "img"\n    }\n  ]\n}'
    )
    assert render.session_name(row(), NAMED_BY_INPUT, for_list=False) == (
        '{\n  "input_content": "no messages stored",\n  "images": [\n    {\n      "id": "img",\n'
        '      "url": "http://i"\n    }\n  ]\n}'
    )


def test_stored_name_wins_even_when_empty() -> None:
    assert render.session_name(row(session_data={"session_name": ""}), NAMED_BY_INPUT, for_list=True) == ""


def test_team_name_ignores_member_runs() -> None:
    team_runs = [
        {"run_id": "m", "agent_id": "member", "messages": [message("m0", "user", "member says", 1)]},
        {"run_id": "t", "team_id": "team", "messages": [message("m1", "user", "team says", 1)]},
    ]
    r = row(session_type="team", agent_id=None, team_id="team")
    assert render.session_name(r, team_runs, for_list=True) == "team says"
    assert render.session_name(r, team_runs, for_list=False) == "team says"


def test_workflow_name_list_uses_first_run_of_any_type_detail_first_workflow_run() -> None:
    wf_runs = [
        {"run_id": "step", "agent_id": "writer", "workflow_id": "wf", "input": {"input_content": "step"}},
        {"run_id": "w", "workflow_id": "wf", "input": {"topic": "ocean", "n": 2, "ü": "é"}},
    ]
    r = row(
        session_type="workflow", agent_id=None, workflow_id="wf", workflow_data={"name": "Content Workflow"}
    )
    assert render.session_name(r, wf_runs, for_list=True) == '{"input_content": "step"}'
    assert (
        render.session_name(r, wf_runs, for_list=False) == '{"topic": "ocean", "n": 2, "\\u00fc": "\\u00e9"}'
    )
    assert render.session_name(r, [{"run_id": "w"}], for_list=True) == "New Content Workflow Session"
    assert render.session_name(r, [{"run_id": "w", "input": "just text"}], for_list=True) == "just text"
    assert render.session_name(r, [], for_list=True) == ""


def test_workflow_name_without_workflow_data() -> None:
    # DEVIATION: AgentOS's list raises AttributeError on a SQL-NULL workflow_data here.
    r = row(session_type="workflow", agent_id=None, workflow_id="wf", workflow_data=None)
    assert render.session_name(r, [{"run_id": "w"}], for_list=True) == ""


def test_non_string_user_content_named_as_text() -> None:
    # DEVIATION: AgentOS 500s (session_name must be a string); we use Message.get_content_string's rule.
    parts = [
        {
            "run_id": "a",
            "agent_id": "x",
            "messages": [message("m", "user", [{"type": "text", "text": "hi"}], 1)],
        }
    ]
    assert render.session_name(row(), parts, for_list=True) == "hi"
    assert render.session_name(row(session_data={"session_name": 7}), [], for_list=True) == "7"


def _reduced(r: dict, run_list: list) -> list:
    """What the list SQL preselects: workflow → runs[0].input; else the deciding run, trimmed."""
    if r["session_type"] == "workflow":
        return [{"input": run_list[0].get("input")}] if run_list else []
    candidates = [x for x in run_list if not x.get("agent_id")] if r["session_type"] == "team" else run_list
    for candidate in candidates:
        users = [m for m in candidate.get("messages") or [] if m.get("role") == "user" and m.get("content")]
        if users or candidate.get("input") is not None:
            return [
                {
                    "agent_id": candidate.get("agent_id"),
                    "messages": users[:1],
                    "input": candidate.get("input"),
                }
            ]
    return []


@pytest.mark.parametrize("session_type", ["agent", "team", "workflow"])
def test_list_name_same_from_reduced_runs(session_type: str) -> None:
    run_list = [
        {"run_id": "0", "agent_id": "m", "messages": [message("a", "user", "member", 1)]},
        {
            "run_id": "1",
            "team_id": "t",
            "messages": [message("b", "user", "", 1), message("c", "system", "s", 1)],
        },
        {
            "run_id": "2",
            "team_id": "t",
            "input": {"input_content": "typed"},
            "messages": [message("d", "assistant", "x", 1), message("e", "user", "asked", 1)],
        },
        {"run_id": "3", "input": None, "messages": [message("f", "user", "late", 1)]},
    ]
    r = row(session_type=session_type)
    for start in range(len(run_list) + 1):
        tail = run_list[start:]
        assert render.session_name(r, tail, for_list=True) == render.session_name(
            r, _reduced(r, tail), for_list=True
        )


# ---------------------------------------------------------------- detail


def test_detail_metrics() -> None:
    assert detail(row(session_data={"session_state": {"a": 1}}), [], "agent", nulls=True) == (
        '{"user_id":null,"agent_session_id":"s-1","session_id":"s-1","session_name":"","session_summary":null,'
        '"session_state":{"a":1},"agent_id":"basic-agent","total_tokens":null,"agent_data":null,"metrics":{},'
        '"metadata":null,"chat_history":[],"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}'
    )
    assert '"metrics":null' in detail(row(session_data={}), [], "agent", nulls=True)


def test_detail_null_session_metrics_renders_as_absent() -> None:
    # DEVIATION: AgentOS raises AttributeError (500) on every detail-shaped response here.
    for as_type in ("agent", "team"):
        shape = render.session_detail(
            row(session_data={"session_metrics": None, "session_state": {"a": 1}}), [], as_type, now=NOW
        )
        assert shape["metrics"] == {} and shape["total_tokens"] is None


def test_detail_timestamps() -> None:
    assert detail(row(created_at=0, updated_at=None), [], "agent", nulls=True).endswith(
        '"created_at":null,"updated_at":null}'
    )
    assert detail(row(updated_at=None), [], "team").endswith(
        '"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}'
    )


def test_workflow_detail_null_updated_at_is_now() -> None:
    r = row(session_type="workflow", agent_id=None, workflow_id="wf", updated_at=None)
    assert detail(r, [], "workflow", nulls=True) == (
        '{"user_id":null,"workflow_id":"wf","workflow_name":null,"session_id":"s-1","session_name":"",'
        '"session_data":{},"session_state":null,"workflow_data":{},"metadata":{},'
        '"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-11-22T03:53:15Z"}'
    )


@pytest.mark.parametrize(
    ("stored", "agent", "team"),
    [
        ({"summary": None}, {}, None),
        (
            {"summary": "S", "topics": None, "updated_at": "2026-01-01T02:00:00Z"},
            {"summary": "S", "updated_at": "2026-01-01T02:00:00+00:00"},
            {"summary": "S", "updated_at": "2026-01-01T02:00:00+00:00"},
        ),
        (
            {"topics": ["t"], "summary": "S", "updated_at": ""},
            {"summary": "S", "topics": ["t"]},
            {"summary": "S", "topics": ["t"]},
        ),
        ({}, {}, None),  # DEVIATION: AgentOS 500s (SessionSummary needs 'summary')
        ("text", None, None),  # DEVIATION: AgentOS 500s on a non-object summary
    ],
)
def test_detail_summary(stored: object, agent: dict | None, team: dict | None) -> None:
    assert render.session_detail(row(summary=stored), [], "agent", now=NOW)["session_summary"] == agent
    assert render.session_detail(row(summary=stored), [], "team", now=NOW)["session_summary"] == team
    if isinstance(agent, dict):
        assert list(agent) == [k for k in ("summary", "topics", "updated_at") if k in agent]


def test_detail_as_other_type() -> None:
    r = row(session_data={"session_state": {"a": 1}}, metadata=None, workflow_data=None)
    shape = render.session_detail(r, [], "workflow", now=NOW)
    assert shape["session_data"] == {"session_state": {"a": 1}} and shape["metadata"] == {}
    assert shape["workflow_id"] is None and shape["workflow_data"] == {}


# ---------------------------------------------------------------- chat_history


def test_message_re_serialisation_order_and_drops() -> None:
    stored = {
        "role": "assistant",
        "content": "ok",
        "id": "m",
        "created_at": 1767225611.0,
        "temporary": False,
        "metrics": {
            "total_tokens": 30,
            "cost": 0.0,
            "timer": None,
            "bogus": 1,
            "reasoning_tokens": 0,
            "provider_metrics": {},
            "input_tokens": 20,
        },
        "tool_calls": [],
        "provider_data": {},
        "name": "",
        "from_history": "false",
        "references": {"time": 2, "query": "q", "extra": 1},
    }
    assert compact(messages.message_to_dict(stored, now=NOW)) == (
        '{"id":"m","content":"ok","from_history":false,"stop_after_tool_call":false,"role":"assistant","name":"",'
        '"references":{"query":"q","references":null,"time":2.0},'
        '"metrics":{"input_tokens":20,"total_tokens":30,"cost":0.0},"created_at":1767225611}'
    )


def test_message_without_id_or_created_at_gets_fresh_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    out = messages.message_to_dict({"role": "user", "content": "hi"}, now=1795319595)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", out["id"])
    assert out["created_at"] == 1795319595


def test_chat_history_selection() -> None:
    run_list = [
        {"run_id": "wf", "workflow_id": "w", "messages": [message("w1", "user", "workflow run: dropped", 1)]},
        {
            "run_id": "t",
            "team_id": None,
            "status": "ERROR",
            "messages": [
                message("s", "system", "sys", 1),
                message("u", "user", "kept", 2),
                message("h", "user", "old", 0, from_history=True),
                message("tl", "tool", "42", 3),
            ],
        },
        {
            "run_id": "m",
            "agent_id": "a",
            "parent_run_id": "t",
            "messages": [message("x", "user", "member", 4)],
        },
        {"run_id": "n", "agent_id": "a", "parent_run_id": None, "messages": []},
    ]
    assert [m["id"] for m in messages.chat_history(run_list, now=NOW)] == ["u"]


def test_media_round_trip() -> None:
    image = {"url": "http://x/y.png", "bogus": 1, "id": "i", "detail": None}
    audio_b64 = {
        "content": "aGVsbG8",
        "id": "",
        "transcript": "t",
        "mime_type": "audio/wav",
        "metadata": {"m": 1},
    }
    video_ref = {
        "id": "v",
        "duration": 3,
        "media_reference": {
            "url": None,
            "size": 10.0,
            "storage_key": "k",
            "media_id": "m",
            "storage_backend": "s3",
        },
    }
    text_file = {"content": "plain text", "mime_type": "text/plain", "id": "f", "size": 3}
    stored = message(
        "m", "user", "look", 1, images=[image], audio=[audio_b64], videos=[video_ref], files=[text_file]
    )
    out = messages.message_to_dict(stored, now=NOW)
    assert compact(out["images"]) == '[{"id":"i","url":"http://x/y.png"}]'
    # "aGVsbG8" is not valid base64 (padding): agno falls back to its UTF-8 bytes and re-encodes those.
    assert re.fullmatch(
        r'\[\{"id":"[0-9a-f-]{36}","mime_type":"audio/wav","sample_rate":24000,"channels":1,'
        r'"transcript":"t","content":"YUdWc2JHOA=="\}\]',
        compact(out["audio"]),
    )
    assert compact(out["videos"]) == (
        '[{"id":"v","duration":3.0,"media_reference":{"media_id":"m","storage_key":"k","storage_backend":"s3",'
        '"size":10}}]'
    )
    assert compact(out["files"]) == '[{"id":"f","mime_type":"text/plain","content":"plain text"}]'
    assert list(out)[-1] == "created_at"


# ---------------------------------------------------------------- runs


def test_run_input_rules() -> None:
    def of(run: dict, workflow: bool = False) -> object:
        return runs.run_input(run, workflow=workflow)

    assert of({"input": {"input_content": {"q": 1, "when": "x"}}}) == '{\n  "q": 1,\n  "when": "x"\n}'
    assert of({"input": {"input_content": [{"role": "user", "content": "from list"}]}}) == "from list"
    assert of({"input": {"input_content": ["a", 1]}}) == "['a', 1]"
    last_user = {"messages": [message("1", "user", "first", 1), message("2", "user", "last", 2)]}
    assert of(last_user) == "last"
    assert of({"messages": [message("1", "user", None, 1)]}) is None
    assert of({}) == ""
    assert of({"input": {"lang": "français"}}, workflow=True) == '{\n  "lang": "fran\\u00e7ais"\n}'
    executor = {"step_executor_runs": [{"messages": [message("x", "user", "step in", 1)]}], **last_user}
    assert of(executor, workflow=True) == "step in"


def test_run_schema_defaults_with_nulls() -> None:
    run = {"run_id": "r", "agent_id": "basic-agent", "content_type": None, "created_at": 1767225610}
    assert compact(render.single_run(row(agent_data={"sdk": "langgraph"}), run)) == (
        '{"run_id":"r","parent_run_id":"","agent_id":"basic-agent","user_id":"","status":null,'
        '"cancellation_stage":null,"run_input":"","content":"","run_response_format":"json","reasoning_content":"",'
        '"reasoning_steps":[],"metrics":{},"metadata":{"sdk":"langgraph"},"messages":null,"tools":null,'
        '"events":null,"created_at":"2026-01-01T00:00:10Z","references":[],"citations":null,'
        '"reasoning_messages":[],"session_state":null,"images":[],"videos":[],"audio":[],"files":[],'
        '"response_audio":null,"input_media":{"images":[],"videos":[],"audios":[],"files":[]},"followups":null,'
        '"forked_from_run_id":null,"forked_from_message_index":null,"forked_from_session_id":null,'
        '"regenerated_from":null,"last_checkpoint_at_message_index":null}'
    )


def test_sdk_only_on_the_sessions_own_agent_runs() -> None:
    r = row(agent_data={"sdk": "langgraph"})
    items = render.session_runs(
        r,
        [
            {"run_id": "own", "agent_id": "basic-agent", "metadata": {"x": 1}},
            {"run_id": "other", "agent_id": "helper"},
            {"run_id": "anon"},
        ],
        "agent",
    )
    assert [item["metadata"] for item in items] == [{"x": 1, "sdk": "langgraph"}, None, {"sdk": "langgraph"}]
    assert (
        render.session_runs(r, [{"run_id": "own", "agent_id": "basic-agent"}], "team")[0]["metadata"] is None
    )


def test_classification() -> None:
    run_list = [
        {"run_id": "a", "agent_id": "x"},
        {"run_id": "t", "team_id": "y"},
        {"run_id": "w", "workflow_id": "z"},
        {"run_id": "n"},
        {"run_id": "aw", "agent_id": "x", "workflow_id": "z"},
    ]

    def shapes(as_type: str) -> list:
        return [
            (i["run_id"], "agent_id" in i, "team_id" in i, "workflow_id" in i)
            for i in render.session_runs(row(), run_list, as_type)
        ]

    assert shapes("agent") == [(r["run_id"], True, False, False) for r in run_list]
    assert shapes("team") == [
        ("a", True, False, False),
        ("t", False, True, False),
        ("aw", True, False, False),
    ]
    assert shapes("workflow") == [
        ("a", True, False, False),
        ("t", False, True, False),
        ("w", False, False, True),
        ("n", True, False, False),
        ("aw", False, False, True),
    ]


def test_single_run_schema_follows_the_run() -> None:
    assert "step_results" in render.single_run(row(), {"run_id": "w", "workflow_id": "z", "team_id": "t"})
    assert "team_id" in render.single_run(row(), {"run_id": "t", "team_id": "t", "agent_id": "a"})
    assert render.single_run(row(), {"run_id": "t", "team_id": "t"})["user_id"] is None


def test_preview_truncates_and_dumps_structured_content() -> None:
    items = render.session_runs(
        row(),
        [
            {
                "run_id": "j",
                "agent_id": "x",
                "content": {"k": "ü" * 300},
                "created_at": 5,
                "input": {"input_content": "y" * 400},
            }
        ],
        "agent",
    )
    preview = render.run_preview(items[0])
    assert list(preview) == [
        "run_id",
        "parent_run_id",
        "agent_id",
        "team_id",
        "workflow_id",
        "user_id",
        "status",
        "run_input",
        "content_preview",
        "created_at",
    ]
    assert preview["run_input"] == "y" * 280
    assert preview["content_preview"] == ('{"k": "' + "\\u00fc" * 300)[:280]
    assert preview["created_at"] == "1970-01-01T00:00:05Z" and preview["team_id"] is None
    assert (
        render.run_preview(render.session_runs(row(), [{"run_id": "w", "workflow_id": "z"}], "workflow")[0])[
            "status"
        ]
        == ""
    )


# ---------------------------------------------------------------- filters, statuses, legacy blob


def test_invalid_statuses() -> None:
    assert render.invalid_statuses(["completed", "Running"]) is None
    assert render.invalid_statuses([]) is None
    assert render.invalid_statuses(["bogus", "DONE", "running", "done"]) == (
        "Invalid status value(s) ['BOGUS', 'DONE']; expected one of ['CANCELLED', 'COMPLETED', 'ERROR', "
        "'PAUSED', 'PENDING', 'REGENERATED', 'RUNNING']"
    )


def test_filter_runs() -> None:
    run_list = [
        {"run_id": "1", "created_at": 10, "status": "COMPLETED"},
        {"run_id": "2", "created_at": 20},
        {"run_id": "3", "status": "running"},
        {"run_id": "4", "created_at": 30, "status": "ERROR"},
    ]

    def ids(**kwargs: object) -> list:
        args = {"statuses": None, "created_after": None, "created_before": None, **kwargs}
        return [r["run_id"] for r in render.filter_runs(run_list, **args)]

    assert ids() == ["1", "2", "3", "4"]
    assert ids(created_after=20) == ["2", "3", "4"]
    assert ids(created_before=20) == ["1", "2", "3"]
    assert ids(created_after=0, created_before=10) == ["1", "3"]
    assert ids(statuses=["Running", "completed"]) == ["1", "3"]
    assert ids(statuses=[]) == ["1", "2", "3", "4"]


# ---------------------------------------------------------------- create / PATCH inputs


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        (None, None),
        ({}, {}),
        ({"a": 1}, {"a": 1}),
        ({"agno_dispatch_chain": [1]}, None),
        ({"a": 1, "agno_component_version": 3, "agno_dispatch_depth": 2}, {"a": 1}),
    ],
)
def test_strip_reserved_metadata(meta: dict | None, expected: dict | None) -> None:
    assert agno.strip_reserved_metadata(meta) == expected


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ({"summary": "S"}, {"summary": "S"}),
        (
            {"updated_at": "2026-01-01T02:00:00Z", "topics": ["a"], "summary": "S"},
            {"summary": "S", "topics": ["a"], "updated_at": "2026-01-01T02:00:00+00:00"},
        ),
        ({"summary": None}, {}),
        ({"summary": "S", "updated_at": "", "topics": None}, {"summary": "S"}),
        ({"summary": "S", "updated_at": "2026-01-01"}, {"summary": "S", "updated_at": "2026-01-01T00:00:00"}),
    ],
)
def test_summary_dict(given: dict, stored: dict) -> None:
    assert summary_errors(given, ("body", "summary")) == []
    assert compact(summary_dict(given)) == compact(stored)


@pytest.mark.parametrize(
    ("given", "message_part"),
    [
        ({"topics": []}, ("missing", ["body", "summary", "summary"])),
        ({"summary": "S", "extra": 1}, ("extra_forbidden", ["body", "summary", "extra"])),
        ({"summary": "S", "updated_at": "garbage"}, ("datetime_parsing", ["body", "summary", "updated_at"])),
        ({"summary": "S", "updated_at": 5}, ("string_type", ["body", "summary", "updated_at"])),
    ],
)
def test_summary_errors(given: dict, message_part: tuple) -> None:
    # DEVIATION: AgentOS answers 500 (TypeError/ValueError); the route answers 422 with this error.
    assert [(e["type"], e["loc"]) for e in summary_errors(given, ("body", "summary"))] == [message_part]
