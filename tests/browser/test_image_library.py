"""A writer adds a picture to the image library in Chromium, on a desktop and a phone, and meets a refused file."""

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from articles import images
from articles.models import Image
from tests.browser.test_accessibility import AXE_OPTIONS, DESKTOP, PHONE, SCREENSHOTS, describe_violations
from tests.browser.test_authoring import log_in
from tests.data import hostile_images as hostile
from tests.factories import member_of

ALT = "The skin's three layers, labelled: epidermis on top, dermis below, fat at the bottom"
REFUSED = images.HIDDEN_CONTENT.format(what="HTML or a script")


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    return tmp_path


def look(page, name: str) -> list:
    """Photograph the page, and return what axe-core finds wrong in the admin's content area."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"image-library-{name}.png", full_page=True)
    return Axe().run(page, context={"include": ["#content"]}, options=AXE_OPTIONS).response["violations"]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_a_writer_uploads_a_picture_with_alt_text_and_sees_a_hostile_file_refused(browser, live_server, media,
                                                                                   viewport):  # fmt: skip
    writer = member_of("Writers")
    width = viewport["width"]
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        log_in(page, writer)
        page.goto("/admin/articles/image/add/")
        page.fill("#id_title", "Layers of the skin")
        page.fill("#id_alt_text", ALT)
        page.set_input_files("#id_upload", files=[{"name": "skin-layers.png", "mimeType": "image/png",
                                                    "buffer": hostile.content("png-then-script")}])  # fmt: skip
        page.click("input[name=_continue]")
        error = page.locator(".field-upload .errorlist")
        assert error.inner_text().strip() == REFUSED
        assert not Image.objects.exists()
        assert [p for p in media.rglob("*") if p.is_file()] == []
        refused = look(page, f"refused-{width}")
        assert not refused, describe_violations(refused)

        # The browser forgets a chosen file when the page comes back with an error: choose the honest one.
        page.set_input_files("#id_upload", files=[{"name": "skin-layers.png", "mimeType": "image/png",
                                                    "buffer": hostile.picture("PNG", size=(900, 450))}])  # fmt: skip
        page.click("input[name=_continue]")
        page.wait_for_selector(".messagelist .success")
        image = Image.objects.get()
        assert (image.alt_text, image.width, image.uploaded_by) == (ALT, 900, writer)
        preview = page.locator("img.library-preview")
        assert preview.get_attribute("alt") == ALT
        # The rendition is made when the page asks for it: wait for the picture rather than read it half-loaded.
        preview.evaluate("img => img.complete || new Promise(done => { img.onload = img.onerror = done; })")
        assert preview.evaluate("img => img.naturalWidth") == 640
        box = preview.bounding_box()
        assert box["x"] + box["width"] <= width  # the preview fits the screen
        saved = look(page, f"saved-{width}")
        assert not saved, describe_violations(saved)
    finally:
        context.close()
