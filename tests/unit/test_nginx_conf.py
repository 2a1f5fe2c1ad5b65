"""The front's nginx.conf: every limit and deadline comes from the settings, refusals answer in the service's JSON
(the app's own 413 body: tests/integration/test_front_refusals.py; nginx -t: tests/system/test_front_server.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from service.core.config import ConfigError, load_settings
from service.server import front, nginx_conf
from tests.support.front_conf import DSN, ENV, rendered


def directive(conf: str, name: str) -> str:
    """The single value of a directive (the test fails when it is missing or repeated)."""
    (value,) = re.findall(rf"^\s*{re.escape(name)} ([^;{{}}]+);", conf, flags=re.MULTILINE)
    return value


def test_deadlines_and_limits_come_from_the_settings(tmp_path: Path) -> None:
    conf = rendered(tmp_path)
    assert directive(conf, "client_header_timeout") == "7000ms"
    assert directive(conf, "client_body_timeout") == "11000ms"
    assert directive(conf, "send_timeout") == "11000ms"
    http, upstream = conf.split("upstream agno_session", 1)
    assert directive(http, "keepalive_timeout") == "3000ms"
    assert directive(upstream, "keepalive_timeout") == "1500ms"  # half of AGNO_KEEPALIVE_TIMEOUT
    assert directive(conf, "proxy_read_timeout") == "30000ms"  # request timeout + margin: the app's 504 comes first
    assert directive(conf, "client_max_body_size") == "5000"
    assert directive(conf, "client_body_buffer_size") == "5000"  # a small limit: bodies stay in memory
    assert directive(conf, "large_client_header_buffers") == "2 16384"
    assert directive(conf, "limit_conn per_client") == "40"
    assert directive(conf, "limit_conn_zone") == "$binary_remote_addr zone=per_client:10m"
    assert directive(conf, "worker_connections") == "500"
    assert directive(conf, "keepalive") == "15"  # upstream: one idle connection per gunicorn thread
    assert directive(conf, "listen") == "9123 backlog=1024"
    assert directive(conf, "server") == f"unix:{tmp_path}/gunicorn.sock"
    assert directive(conf, "server_tokens") == "off" and directive(conf, "access_log") == "off"
    assert directive(conf, "error_log") == "stderr warn"
    assert directive(conf, "proxy_request_buffering") == "on"
    assert directive(conf, "proxy_set_header X-Forwarded-For") == "$proxy_add_x_forwarded_for"
    assert directive(conf, "proxy_set_header X-Real-IP") == "$remote_addr"
    large = rendered(tmp_path, AGNO_MAX_BODY_BYTES=str(50 * 1024 * 1024), AGNO_SERVICE_HOST="127.0.0.1")
    assert directive(large, "client_body_buffer_size") == str(nginx_conf.BODY_MEMORY_BYTES)  # the rest goes to a file
    assert directive(large, "listen") == "127.0.0.1:9123 backlog=1024"


def test_nginx_writes_only_under_its_runtime_directory(tmp_path: Path) -> None:
    conf = rendered(tmp_path)
    paths = re.findall(r"[\s:](/[\w.-][\w./-]*)", re.sub(r"#.*", "", conf))
    files = [p for p in paths if not p.startswith(nginx_conf.REFUSED)]  # the refusals' URIs are no files
    assert files and all(p.startswith(str(tmp_path)) for p in files), files
    assert "user " not in conf
    assert re.search(r"^user nobody;$", nginx_conf.render(load_settings(ENV), tmp_path, "/x.sock", user="nobody"),
                     flags=re.MULTILINE)


def test_upstream_idle_connections_close_before_gunicorn_closes_them(tmp_path: Path) -> None:
    conf = nginx_conf.render(load_settings({**ENV, "AGNO_KEEPALIVE_TIMEOUT": "4"}), tmp_path, "/x.sock")
    assert directive(conf.split("upstream agno_session", 1)[1], "keepalive_timeout") == "2000ms"


def test_refusals_answer_the_service_json_shape(tmp_path: Path) -> None:
    conf = rendered(tmp_path)
    answers = dict(re.findall(r"location = /\.agno-front/refused/(\d+) \{ internal; default_type application/json; "
                              r"return \d+ '([^']*)'; \}", conf))
    assert set(answers) == {"400", "404", "408", "413", "414", "494", "502", "503", "504"}
    for code, body in answers.items():
        status, detail = nginx_conf.refusals(load_settings({**ENV}))[int(code)]
        assert json.loads(body) == {"detail": detail}
        assert f"error_page {code} ={status} /.agno-front/refused/{code};" in conf
    assert answers["413"] == '{"detail":"Request body is larger than 5000 bytes"}'


def test_front_settings_are_validated() -> None:
    assert load_settings({"AGNO_PG_DSN": DSN}).front == "none"
    assert load_settings({"AGNO_PG_DSN": DSN, "AGNO_FRONT": "NGINX"}).front == "nginx"
    assert load_settings({"AGNO_PG_DSN": DSN}).front_conn_per_ip == 256
    with pytest.raises(ConfigError, match="AGNO_FRONT must be one of none, nginx, got 'haproxy'"):
        load_settings({"AGNO_PG_DSN": DSN, "AGNO_FRONT": "haproxy"})
    with pytest.raises(ConfigError, match="AGNO_FRONT_CONN_PER_IP must be between 1 and 100000"):
        load_settings({"AGNO_PG_DSN": DSN, "AGNO_FRONT_CONN_PER_IP": "0"})
    with pytest.raises(ConfigError, match=r"AGNO_FRONT_CONN_PER_IP \(500\) must be below half of AGNO_MAX_CONNECTIONS"):
        load_settings({"AGNO_PG_DSN": DSN, "AGNO_FRONT": "nginx", "AGNO_FRONT_CONN_PER_IP": "500"})
    # without the front the per-client limit is not used, so it is not checked against the connections
    assert load_settings({"AGNO_PG_DSN": DSN, "AGNO_FRONT_CONN_PER_IP": "500"}).front_conn_per_ip == 500


def test_a_missing_nginx_is_a_configuration_error(monkeypatch) -> None:
    monkeypatch.setattr(front.shutil, "which", lambda _name: None)
    monkeypatch.setattr(front.os, "access", lambda _path, _mode: False)
    with pytest.raises(ConfigError, match="make system-packages"):
        front.nginx_binary()
