"""docs/cutover.md quotes proxy/rules.default.yaml whole, so the documented defaults are the real ones."""

from __future__ import annotations

import re
from pathlib import Path

from proxy import rules

DOC = Path(__file__).resolve().parents[3] / "docs" / "cutover.md"


def test_the_rules_block_in_the_cutover_doc_is_the_default_rules_file() -> None:
    section = DOC.read_text(encoding="utf-8").split("## The rules file", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, flags=re.DOTALL)
    assert block is not None, "docs/cutover.md: no ```yaml block under 'The rules file'"
    assert block.group(1) == rules.DEFAULT_FILE.read_text(encoding="utf-8")
