"""Pictures in an item's body in Chromium: a left-aligned picture floats beside the text on
a desktop (1366 px) and takes the full width on a phone (390 px); the browser picks the
WebP source. Screenshots under ``artifacts/browser/portal/``."""

import pytest

from tests.factories import make_tree
from tests.portal.helpers import make_image, publish

from .helpers import CHROMIUM_ARGS

GEOMETRY = """() => {
  const body = document.querySelector('.body').getBoundingClientRect();
  const fig = document.querySelector('.figure--left').getBoundingClientRect();
  // The first line of the next paragraph (its box spans the column; its lines wrap).
  const range = document.createRange();
  range.selectNodeContents(document.querySelector('.figure--left + p'));
  const after = range.getClientRects()[0];
  const img = document.querySelector('.figure--left img');
  return {body: body.width, left: fig.left - body.left, width: fig.width,
          figBottom: fig.bottom, afterTop: after.top, afterLeft: after.left - body.left,
          src: img.currentSrc,
          overflow: document.documentElement.scrollWidth - window.innerWidth};
}"""


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.django_db(transaction=True)
def test_a_left_aligned_body_picture_floats_on_a_desktop_and_is_full_width_on_a_phone(
    chromium_path, artifacts_dir, portal_home, live_server, monkeypatch
):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    units = make_tree(three_level=True)
    image = make_image(description="Cây cầu mới", title="cau.jpg", size=(1600, 1000))
    text = "Người dân hai bên bờ sông không còn phải đi đò qua sông như trước nữa. " * 6
    item = publish(
        units["A"],
        "Khánh thành cầu dân sinh",
        body=f"<p>{text}</p>"
        f'<embed alt="Cây cầu nhìn từ bờ bắc" embedtype="image" format="left" id="{image.pk}"/>'
        f"<p>{text}</p><p>{text}</p>",
    )
    shots = artifacts_dir / "portal"
    shots.mkdir(parents=True, exist_ok=True)
    found = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            for width, height in ((1366, 900), (390, 844)):
                ctx = browser.new_context(
                    locale="vi-VN", viewport={"width": width, "height": height}
                )
                page = ctx.new_page()
                assert page.goto(f"{live_server.url}{item.public_path}").status == 200
                page.wait_for_load_state("load")
                page.screenshot(path=str(shots / f"body-picture-{width}.png"), full_page=True)
                found[width] = page.evaluate(GEOMETRY)
                ctx.close()
        finally:
            browser.close()
    desktop, phone = found[1366], found[390]
    # Desktop: at the column's left, under half its width, the next paragraph beside it.
    assert desktop["left"] <= 1 and desktop["width"] <= desktop["body"] * 0.46, desktop
    assert desktop["afterTop"] < desktop["figBottom"], desktop
    assert desktop["afterLeft"] >= desktop["width"], desktop
    # Phone: the whole column, the text below it, nothing sideways.
    assert abs(phone["width"] - phone["body"]) <= 1, phone
    assert phone["afterTop"] >= phone["figBottom"], phone
    assert phone["overflow"] <= 0, phone
    # Chromium reads WebP: it takes the <source>.
    assert desktop["src"].endswith(".webp") and phone["src"].endswith(".webp"), found
