"""`helm lint` and `helm template` through helm-python-sdk (Helm's own Go code), which has no command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import helm_python
import yaml


def lint(chart: Path, values: dict, kube_version: str) -> int:
    """helm lint --strict with the given values for one Kubernetes version; non-zero on any warning or error."""
    report = helm_python.lint(str(chart), values, strict=True, kube_version=kube_version, namespace="agno")
    problems = [m for m in report.get("messages", []) if m.get("severity", 0) >= 2] + report.get("errors", [])
    for problem in problems:
        print(f"lint {kube_version}: {problem}", file=sys.stderr)
    return 1 if problems else 0


def render(chart: Path, values: dict, out: Path | None) -> int:
    """helm template: every manifest into one multi-document file, NOTES.txt to stdout; non-zero when refused."""
    loaded = helm_python.Chart.load(str(chart))
    try:
        rendered = loaded.render(values, name="agno", namespace="agno", is_install=True)
    except helm_python.HelmError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 3
    finally:
        loaded.close()
    manifests = [text.strip() for path, text in sorted(rendered.items())
                 if not path.endswith("NOTES.txt") and text.strip()]
    notes = next((text for path, text in rendered.items() if path.endswith("NOTES.txt")), "")
    if out is not None:
        out.write_text("---\n" + "\n---\n".join(manifests) + "\n", encoding="utf-8")
    print(notes)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line: lint | render."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["lint", "render"])
    parser.add_argument("chart", type=Path)
    parser.add_argument("--values", type=Path, action="append", default=[])
    parser.add_argument("--kube-version", default="v1.37.0")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    values: dict = {}
    for path in args.values:
        values.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    if args.command == "lint":
        return lint(args.chart, values, args.kube_version)
    return render(args.chart, values, args.out)


if __name__ == "__main__":
    sys.exit(main())
