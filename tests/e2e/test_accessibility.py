"""Browser: axe-core finds no serious or critical accessibility problem on any page, in light or dark theme."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import open_app
from ui.pages import PAGES

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# axe.run on the whole document, keeping the findings a user would be blocked or badly hindered by.
SCAN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 6).map(n => n.target.join(" ") + " :: " + n.html.slice(0, 160) + " :: " + n.failureSummary)}));
}"""


def findings(pg) -> list[dict]:
    pg.add_script_tag(path=str(AXE))
    return pg.evaluate(SCAN)


def describe(found: list[dict]) -> str:
    lines = []
    for v in found:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']}")
        lines.extend(f"    {node}" for node in v["nodes"])
    return "\n".join(lines)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("spec", PAGES, ids=lambda p: p.url_path)
def test_no_serious_accessibility_findings(browser, app_url, spec, scheme):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme=scheme)
    try:
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        open_app(pg, app_url, spec.url_path)
        pg.wait_for_timeout(1500)  # charts and images settle after the script run ends
        found = findings(pg)
        assert not found, f"{spec.title} ({scheme} theme):\n{describe(found)}"
    finally:
        context.close()
