"""axe-core (npm, pinned in tests/axe/package-lock.json) run in a page of a browser test: the WCAG 2.1
A and AA rules. Every violation counts unless a test narrows `impacts` (and says why)."""

from pathlib import Path

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
EVERY_IMPACT = {"minor", "moderate", "serious", "critical"}


def axe_violations(page, *, impacts=EVERY_IMPACT) -> list[str]:
    """One line per violation of the page as it is now: the rule, its impact and the first elements."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the browser's debugging protocol, so the page's CSP does not block it.
        page.evaluate(AXE.read_text())
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA)
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[node['target'] for node in v['nodes'][:3]]}"
            for v in result["violations"] if v["impact"] in impacts]
