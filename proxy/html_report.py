"""The static HTML report: differences grouped by cause (declared or not) with drill-downs, routes, fields."""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from proxy.tally import REASONS, Tally

_ENV = Environment(loader=PackageLoader("proxy", "templates"), autoescape=select_autoescape(["html", "j2"]))
_ENV.filters["pretty"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False, default=str)


def render(tally: Tally, summary: dict[str, Any]) -> str:
    """The whole page; autoescaped, so bodies from either side cannot inject markup."""
    routes = {name: r.as_dict(with_examples=True) for name, r in sorted(tally.routes.items())}
    return _ENV.get_template("report.html.j2").render(summary=summary, routes=routes, reasons=REASONS,
                                                      causes=tally.sorted_causes(with_examples=True))
