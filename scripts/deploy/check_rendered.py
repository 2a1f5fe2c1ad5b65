"""What a schema cannot see in rendered manifests: the objects point at each other, and every pod is locked down."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def check(docs: list[dict]) -> list[str]:
    """Problems found in one rendering (empty when it hangs together)."""
    by_kind: dict[str, list[dict]] = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)
    problems = []
    deliverers = [d for d in by_kind["Deployment"] if _component(d) == "deliver"]
    events = [d for d in by_kind["Deployment"] if _is_events(d)]
    deployment = next(d for d in by_kind["Deployment"] if d not in deliverers and not _is_events(d))
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = next(d for d in by_kind["Service"] if not _is_events(d))

    def selects(selector: dict, labels: dict) -> bool:
        return bool(selector) and all(labels.get(k) == v for k, v in selector.items())

    if not selects(deployment["spec"]["selector"]["matchLabels"], pod_labels):
        problems.append("Deployment selector does not match its pods")
    if not selects(service["spec"]["selector"], pod_labels):
        problems.append("Service selector does not match the pods")
    port_names = {p["name"] for c in deployment["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
    for kind in ("PodDisruptionBudget",):
        for doc in by_kind.get(kind, []):
            if not selects(doc["spec"]["selector"]["matchLabels"], pod_labels):
                problems.append(f"{kind} selects no pod")
    for doc in by_kind.get("NetworkPolicy", []):
        own = _component(doc) == "deliver" or _is_events(doc)  # the deliverer's and the event process's policies
        if not own and not selects(doc["spec"]["podSelector"]["matchLabels"], pod_labels):
            problems.append("NetworkPolicy selects no pod")
    for doc in by_kind.get("HorizontalPodAutoscaler", []):
        if doc["spec"]["scaleTargetRef"]["name"] != deployment["metadata"]["name"]:
            problems.append("HPA targets another Deployment")
        if "replicas" in deployment["spec"]:
            problems.append("Deployment sets replicas while the HPA scales it")
    for doc in by_kind.get("ServiceMonitor", []):
        if not selects(doc["spec"]["selector"]["matchLabels"], service["metadata"]["labels"]):
            problems.append("ServiceMonitor selects no Service")
        for endpoint in doc["spec"]["endpoints"]:
            if endpoint["port"] not in {p["name"] for p in service["spec"]["ports"]} or endpoint["path"] != "/metrics":
                problems.append("ServiceMonitor scrapes a port or path the Service does not have")
    for doc in by_kind.get("Ingress", []):
        for rule in doc["spec"]["rules"]:
            paths = {p["path"]: p["backend"]["service"] for p in rule["http"]["paths"]}
            if paths.get("/sessions", {}).get("name") != service["metadata"]["name"]:
                problems.append("Ingress does not send /sessions to this service")
    pods = [deployment["spec"]["template"]["spec"]]
    pods += [job["spec"]["template"]["spec"] for job in by_kind.get("Job", [])]
    pods += [cron["spec"]["jobTemplate"]["spec"]["template"]["spec"] for cron in by_kind.get("CronJob", [])]
    problems += _retention_problems(by_kind)
    problems += _deliver_problems(by_kind, deliverers, deployment, service)
    pods += [d["spec"]["template"]["spec"] for d in deliverers]
    pods += [pod["spec"] for pod in by_kind.get("Pod", [])]
    pods += [d["spec"]["template"]["spec"] for d in events]
    for spec in pods:
        if spec["securityContext"].get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append("a pod without seccomp RuntimeDefault")
        for container in spec["containers"]:
            sc = container.get("securityContext", {})
            if not (sc.get("runAsNonRoot") and sc.get("readOnlyRootFilesystem") and sc.get("allowPrivilegeEscalation")
                    is False and sc.get("capabilities", {}).get("drop") == ["ALL"]):
                problems.append(f"container {container['name']} is not locked down: {sc}")
    probes = deployment["spec"]["template"]["spec"]["containers"][0]
    paths = {k: probes[k]["httpGet"]["path"] for k in ("startupProbe", "livenessProbe", "readinessProbe")}
    if paths != {"startupProbe": "/healthz", "livenessProbe": "/healthz", "readinessProbe": "/readyz"}:
        problems.append(f"probes: {paths}")
    if "http" not in port_names:
        problems.append("the container has no port named http")
    problems += _events_problems(by_kind, events, deployment, service)
    return problems


def _is_events(doc: dict) -> bool:
    return doc["metadata"]["labels"].get("app.kubernetes.io/component") == "events"


def _events_problems(by_kind: dict[str, list[dict]], events: list[dict], deployment: dict, service: dict) -> list[str]:
    """The event process: its Service selects its pods and never the service's (nor the reverse), it has both
    probes, the ingress sends /sessions/-/events to it, and the service's front points at its Service."""
    if not events:
        return []
    problems = []
    (stream,) = events
    labels = stream["spec"]["template"]["metadata"]["labels"]
    services = [s for s in by_kind["Service"] if _is_events(s)]
    if len(services) != 1 or not all(labels.get(k) == v for k, v in services[0]["spec"]["selector"].items()):
        return ["the events Service does not select the events pods"]
    events_service = services[0]
    if all(labels.get(k) == v for k, v in service["spec"]["selector"].items()):
        problems.append("the service's Service also selects the events pods")
    for policy in by_kind.get("NetworkPolicy", []):
        selector = policy["spec"]["podSelector"]["matchLabels"]
        if _is_events(policy) and any(labels.get(k) != v for k, v in selector.items()):
            problems.append("the events NetworkPolicy selects no events pod")
    container = stream["spec"]["template"]["spec"]["containers"][0]
    if container["args"] != ["serve-events"]:
        problems.append(f"the events container runs {container['args']}")
    paths = {k: container.get(k, {}).get("httpGet", {}).get("path") for k in ("livenessProbe", "readinessProbe")}
    if paths != {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}:
        problems.append(f"events probes: {paths}")
    port = events_service["spec"]["ports"][0]["port"]
    front = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    if front.get("AGNO_FRONT_EVENTS_URL") != f"http://{events_service['metadata']['name']}:{port}":
        problems.append(f"the front routes the stream to {front.get('AGNO_FRONT_EVENTS_URL')}")
    for doc in by_kind.get("Ingress", []):
        for rule in doc["spec"]["rules"]:
            routed = {p["path"]: p["backend"]["service"] for p in rule["http"]["paths"]}
            wanted = {"name": events_service["metadata"]["name"], "port": {"number": port}}
            if routed.get("/sessions/-/events") != wanted:
                problems.append("Ingress does not send /sessions/-/events to the event process")
    jobs = [c for job in by_kind.get("Job", []) for c in job["spec"]["template"]["spec"]["containers"]
            if c.get("args", [""])[0] == "migrate"]
    if jobs and "--changes" not in jobs[0]["args"]:
        problems.append("the migration Job does not install the change log the event process reads")
    return problems


def _retention_problems(by_kind: dict[str, list[dict]]) -> list[str]:
    """The retention CronJob reads its policy file from a mounted ConfigMap that holds it, and the migration Job
    installs the lifecycle tables the sweep needs."""
    problems = []
    maps = {m["metadata"]["name"]: m.get("data", {}) for m in by_kind.get("ConfigMap", [])}
    for cron in by_kind.get("CronJob", []):
        spec = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        [container] = spec["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        path = env.get("AGNO_RETENTION_FILE") or ""
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        mounts = [m for m in container.get("volumeMounts", []) if path.startswith(m["mountPath"] + "/")]
        source = volumes.get(mounts[0]["name"], {}).get("configMap", {}).get("name") if mounts else None
        if source is None:
            problems.append("the retention CronJob's AGNO_RETENTION_FILE is not on a mounted ConfigMap")
        elif source in maps and path.rsplit("/", 1)[1] not in maps[source]:
            problems.append(f"ConfigMap {source} has no {path.rsplit('/', 1)[1]}")
        if container["args"][:3] != ["retention", "apply", "--yes"]:
            problems.append(f"the retention CronJob runs {container['args']}")
        if not any("--lifecycle" in job["spec"]["template"]["spec"]["containers"][0]["args"]
                   for job in by_kind.get("Job", [])):
            problems.append("retention is on but no migration Job installs the lifecycle tables (--lifecycle)")
    return problems


def _component(doc: dict) -> str | None:
    return doc["metadata"].get("labels", {}).get("app.kubernetes.io/component")


def _deliver_problems(by_kind: dict[str, list[dict]], deliverers: list[dict], deployment: dict,
                      service: dict) -> list[str]:
    """The webhook deliverer's pods are its own (the service's Deployment, Service and PDB never select them), read
    the subscription file from a mounted Secret that holds it, are probed on /healthz (which needs no metrics token),
    and the migration Job installs its tables."""
    problems = []
    secrets = {s["metadata"]["name"]: s.get("stringData", s.get("data", {})) for s in by_kind.get("Secret", [])}
    for doc in deliverers:
        labels = doc["spec"]["template"]["metadata"]["labels"]
        selectors = [deployment["spec"]["selector"]["matchLabels"], service["spec"]["selector"]]
        selectors += [p["spec"]["selector"]["matchLabels"] for p in by_kind.get("PodDisruptionBudget", [])]
        if any(all(labels.get(k) == v for k, v in sel.items()) for sel in selectors):
            problems.append("the service's Deployment, Service or PDB selects the deliverer's pods")
        if any(labels.get(k) != v for k, v in doc["spec"]["selector"]["matchLabels"].items()):
            problems.append("the deliver Deployment's selector does not match its pods")
        spec = doc["spec"]["template"]["spec"]
        [container] = spec["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        path = env.get("AGNO_WEBHOOKS_FILE") or ""
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        mounts = [m for m in container.get("volumeMounts", []) if path.startswith(m["mountPath"] + "/")]
        source = volumes.get(mounts[0]["name"], {}).get("secret", {}).get("secretName") if mounts else None
        if source is None:
            problems.append("the deliverer's AGNO_WEBHOOKS_FILE is not on a mounted Secret")
        elif source in secrets and path.rsplit("/", 1)[1] not in secrets[source]:
            problems.append(f"Secret {source} has no {path.rsplit('/', 1)[1]}")
        policies = by_kind.get("NetworkPolicy", [])
        if policies and not any(all(labels.get(k) == v for k, v in p["spec"]["podSelector"]["matchLabels"].items())
                                for p in policies):
            problems.append("no NetworkPolicy selects the deliverer's pods")
        if container["args"][:1] != ["deliver"]:
            problems.append(f"the deliver Deployment runs {container['args']}")
        paths = {k: container[k]["httpGet"]["path"] for k in ("livenessProbe", "readinessProbe") if k in container}
        if paths != {"livenessProbe": "/healthz", "readinessProbe": "/healthz"}:  # /metrics may want a token
            problems.append(f"deliver probes: {paths}")
        if not any({"--changes", "--webhooks"} <= set(job["spec"]["template"]["spec"]["containers"][0]["args"])
                   for job in by_kind.get("Job", [])):
            problems.append("deliver is on but no migration Job installs its tables (--changes --webhooks)")
    return problems


def main(argv: list[str]) -> int:
    """check_rendered.py RENDERED.yaml ...: print problems, non-zero when any."""
    failed = 0
    for name in argv:
        docs = [d for d in yaml.safe_load_all(Path(name).read_text(encoding="utf-8")) if d]
        for problem in check(docs):
            print(f"{name}: {problem}", file=sys.stderr)
            failed = 1
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
