"""The dashboard in a real browser: headless Debian Chromium driven by Playwright against
`streamlit run dashboard.py` on localhost.

Needs /usr/bin/chromium (scripts/ensure-chromium.sh installs it; `make test` runs that).
Playwright's own browser download is not used.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("dashboard_fixture", ROOT / "fixtures" / "dashboard" / "build_db.py")
assert _spec and _spec.loader
fixture_db = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixture_db)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="/usr/bin/chromium is not installed (run scripts/ensure-chromium.sh)"),
]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not become healthy in {timeout:g} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("browser")
    db = fixture_db.build(tmp / "fx.duckdb", tmp)
    port = free_port()
    env = {**os.environ, "TRACKER_DB": str(db)}
    log = (tmp / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard.py"), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1400}, accept_downloads=True)
        try:
            yield context
        finally:
            context.close()


def choose(page, key: str, text: str) -> None:
    """Pick the option of the selectbox ``key`` whose label contains ``text``."""
    combo = page.locator(f".st-key-{key} [role=combobox]")
    combo.click()
    page.get_by_role("option").filter(has_text=text).first.click()
    page.wait_for_function("([el, t]) => el.value.includes(t)", arg=[combo.element_handle(), text], timeout=30_000)


def test_pick_a_metric_open_a_claim_and_see_it_inert(server: str, browser, tmp_path: Path) -> None:
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server)
    page.get_by_text("Gaza war figures in Arabic news").wait_for(timeout=60_000)
    page.get_by_text("26 claims from 12 articles").wait_for(timeout=30_000)

    # choose a metric: the sidebar follows and the timeline redraws
    choose(page, "metric", "Hostages held in Gaza")
    page.get_by_role("tab", name="Timeline").click()
    page.locator("[data-testid=stVegaLiteChart]").first.wait_for(timeout=30_000)

    # open a claim: its sentence, right to left, with the number marked
    page.get_by_role("tab", name="Claims").click()
    page.get_by_text("6 claims").first.wait_for(timeout=30_000)

    # download the filtered claims
    toolbar = page.get_by_test_id("stHorizontalBlock")
    with page.expect_download(timeout=30_000) as csv_download:
        toolbar.get_by_role("button", name="CSV").click()
    csv_bytes = Path(csv_download.value.path()).read_bytes()
    assert csv_bytes.startswith(b"\xef\xbb\xbf") and len(csv_bytes.decode("utf-8-sig").strip().splitlines()) == 7
    with page.expect_download(timeout=30_000) as parquet_download:
        toolbar.get_by_role("button", name="Parquet").click()
    table = pq.read_table(parquet_download.value.path())
    assert table.num_rows == 6 and set(table.column("metric").to_pylist()) == {"hostages_held"}
    choose(page, "claim_pick", "2024-08-10 · الجزيرة نت")
    # the picker shows the choice at once, the claim below it after the app's rerun: wait for the
    # picked claim's number, not for whichever claim was open before
    page.wait_for_function("() => ['111', '115'].includes(document.querySelector("
                           "'[data-testid=claim-sentence] mark')?.innerText)", timeout=30_000)
    sentence = page.locator("[data-testid=claim-sentence]").first
    assert sentence.get_attribute("dir") == "rtl" and sentence.get_attribute("lang") == "ar"
    mark = sentence.locator("mark")
    assert mark.first.is_visible() and mark.first.inner_text() in {"111", "115"}
    assert "محتجز" in sentence.inner_text()
    assert "Amiri" in sentence.evaluate("e => getComputedStyle(e).fontFamily")
    sentence.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "claim.png"))
    assert (tmp_path / "claim.png").stat().st_size > 10_000

    # the hostile article: markup in its title, a javascript: URL, HTML and bidi overrides in its text
    choose(page, "claim_pick", "لا يزال 120")
    meta = page.locator("table.trk-meta")
    meta.get_by_text("<script>alert(1)</script>", exact=True).wait_for(timeout=30_000)
    meta.get_by_text("javascript:alert(1)", exact=True).wait_for(timeout=10_000)
    meta.get_by_text("<b onmouseover=alert(3)>ناشر</b>", exact=True).wait_for(timeout=10_000)
    assert page.locator("a[href^='javascript' i]").count() == 0
    assert page.locator("[data-testid=claim-article] img, [data-testid=claim-article] a").count() == 0
    article = page.locator("[data-testid=claim-article]").first
    page.wait_for_function("() => document.querySelector('[data-testid=claim-article]')"
                           "?.innerText.includes('<img src=x onerror=alert(2)>')", timeout=30_000)
    assert "\u202e" not in article.inner_text() and "[U+202E]" in article.inner_text()
    scripts = page.evaluate("() => [...document.scripts].map(s => s.textContent).join('\\n')")
    assert "alert(1)" not in scripts
    page.screenshot(path=str(tmp_path / "hostile.png"))
    page.wait_for_timeout(500)
    assert dialogs == []
    page.close()
