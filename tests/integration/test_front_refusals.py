"""The front's refusals against the app's own: a body nginx refuses reads exactly as the one the app refuses."""

from __future__ import annotations

from pathlib import Path

from tests.support.front_conf import rendered


def test_the_413_body_is_the_apps_own(make_app, tmp_path: Path) -> None:
    """nginx refuses a large body before the app sees it: a client must not be able to tell which one did."""
    app = make_app(AGNO_MAX_BODY_BYTES="5000")
    answer = app.test_client().post("/sessions", data=b"{" + b" " * 6000 + b"}",
                                    headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    assert f"return 413 '{answer.get_data(as_text=True)}';" in rendered(tmp_path)
