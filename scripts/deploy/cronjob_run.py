"""The chart's retention CronJob as `podman run` arguments: its ConfigMap's files written into a directory, and its
container's args, plain env values and mount path, so container-test.sh runs exactly what the chart renders."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml


def main(argv: list[str]) -> int:
    """cronjob_run.py RENDERED.yaml FILES_DIR: prints {"args", "env", "mount"} as JSON; the files go to FILES_DIR."""
    rendered, files = Path(argv[0]), Path(argv[1])
    docs = [d for d in yaml.safe_load_all(rendered.read_text(encoding="utf-8")) if d]
    [cron] = [d for d in docs if d["kind"] == "CronJob"]
    spec = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    [container] = spec["containers"]
    [mount] = container["volumeMounts"]
    [volume] = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    [config] = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == volume["configMap"]["name"]]
    files.mkdir(parents=True, exist_ok=True)
    for name, text in config["data"].items():
        (files / name).write_text(text, encoding="utf-8")
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}  # secrets are the caller's to give
    print(json.dumps({"args": container["args"], "env": env, "mount": mount["mountPath"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
