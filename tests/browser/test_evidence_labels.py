"""Evidence labels on a real article at 390 px and 1280 px: each full stop stays on its label's line, and a label
leads to the legend "What the evidence labels mean". Screenshots: /tmp/labels-<width>.png."""

import tempfile
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from articles import evidence_legend
from tests.browser.test_accessibility import (  # noqa: F401
    AXE_OPTIONS,
    DESKTOP,
    PHONE,
    _live_server_helper,
    demo_to_read,
    describe_violations,
)

ARTICLE = "/articles/exosomes-wound-healing/"
SHOTS = Path(tempfile.gettempdir())

# For each label: its box, and the boxes of the punctuation that follows it inside the unbreakable piece.
LABEL_LINES = """() => [...document.querySelectorAll(".prose .evidence-tail")].map((tail) => {
    const label = tail.querySelector(".evidence-label").getClientRects();
    const last = label[label.length - 1];
    const text = tail.lastChild.nodeType === Node.TEXT_NODE ? tail.lastChild : null;
    const range = document.createRange();
    if (text) range.selectNodeContents(text);
    const stop = text ? range.getBoundingClientRect() : null;
    return {
        label: tail.querySelector(".evidence-label").textContent,
        punctuation: text ? text.textContent : "",
        labelTop: last.top, labelBottom: last.bottom, labelRight: last.right,
        stopTop: stop && stop.top, stopBottom: stop && stop.bottom, stopLeft: stop && stop.left,
    };
})"""


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
def test_labels_keep_their_full_stop_and_lead_to_the_legend(browser, live_server, demo_to_read, viewport):  # noqa: F811
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(ARTICLE)
        lines = page.evaluate(LABEL_LINES)
        stops = [line for line in lines if line["punctuation"]]
        assert len(stops) >= 4, lines
        for line in stops:
            # The full stop sits on the label's last line, right after it: never alone at the start of a line.
            middle = (line["stopTop"] + line["stopBottom"]) / 2
            assert line["labelTop"] <= middle <= line["labelBottom"], line
            assert line["stopLeft"] >= line["labelRight"] - 1, line
        page.screenshot(path=SHOTS / f"labels-{viewport['width']}.png", full_page=True)
        violations = Axe().run(page, options=AXE_OPTIONS).response["violations"]
        assert not violations, describe_violations(violations)

        label = page.locator(".prose a.evidence-label").first
        expect(label).to_have_accessible_name("Evidence: Animal study")  # what a screen reader says of it
        label.click()
        assert page.url.endswith(f"#{evidence_legend.LEGEND_ID}")
        legend = page.get_by_role("region", name=evidence_legend.LEGEND_HEADING)
        expect(legend).to_be_in_viewport()
        expect(legend.locator("dt")).to_have_count(6)
        expect(legend).to_contain_text("It does not show that the treatment works, or is safe, in people.")
        page.screenshot(path=SHOTS / f"labels-legend-{viewport['width']}.png")
    finally:
        context.close()
