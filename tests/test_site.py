"""The static site (`cmx export site`): built in a temporary folder, then read as files
and driven in Debian's Chromium through Selenium, from disk and over a local server."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import http.server
import json
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cmx import site
from cmx.cli import app
from cmx.kb import load_kb
from cmx.model import Source, SourceKind, Text

HERE = Path(__file__).parent
SHIPPED = HERE.parent / "data"
AXE = HERE / "data" / "axe.min.js"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
TODAY = "2026-11-30"
EN_DASH = "\u2013"


def build(runner: Any, out: Path, *args: str) -> Any:
    today = [] if "--as-of" in args else ["--today", TODAY]  # --as-of sets the day
    return runner.invoke(
        app, ["--data", str(SHIPPED), *today, "export", "site", "-o", str(out), *args]
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped knowledge base as a site, built once for the module."""
    from typer.testing import CliRunner

    out = tmp_path_factory.mktemp("site") / "site"
    result = build(CliRunner(), out)
    assert result.exit_code == 0, result.stderr
    return out


# ------------------------------------------------------------------ the folder


def test_the_folder_has_every_page_in_three_languages(built: Path):
    kb = load_kb(SHIPPED)
    for lang in ("en", "es", "fr"):
        for page in ("index", "sources", "commentary", "changes", "search"):
            assert (built / lang / f"{page}.html").is_file()
        for c in kb.commitments:
            assert (built / lang / "commitment" / f"{c.id}.html").is_file()
        for p in kb.pillars:
            assert (built / lang / "pillar" / f"{p.id}.html").is_file()
            for s in p.sectors:
                assert (built / lang / "area" / f"{s.id}.html").is_file()
        html = (built / lang / "index.html").read_text(encoding="utf-8")
        assert f'<html lang="{lang}">' in html
        assert "<svg" in html and "</svg>" in html  # the chart is inline
    for name in ("plan.db", "commitments-es.csv", "calendar-fr.ics"):
        assert (built / "files" / name).stat().st_size > 0
    assert (built / "static" / "vendor" / "lunr.min.js").is_file()
    assert (built / site.MARKER).is_file()


def test_links_are_relative_and_resolve(built: Path):
    """Every href and src of every page points at a file of the folder (or is http(s))."""
    for page in built.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        for link in re.findall(r'(?:href|src)="([^"]*)"', html):
            if link.startswith(("http://", "https://")):
                continue
            assert not link.startswith(("/", "javascript:", "data:")), (page, link)
            target = (page.parent / link.split("#")[0].split("?")[0]).resolve()
            assert target.exists(), (page.relative_to(built), link)


def test_the_atom_feed_is_well_formed(built: Path):
    import xml.etree.ElementTree as ET

    root = ET.parse(built / "es" / "changes.atom").getroot()
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    assert entries and all(e.find("a:updated", ns) is not None for e in entries)
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "es"


def test_commitment_page_shows_status_history_due_and_sources(built: Path):
    html = (built / "en" / "commitment" / "cusma-coordination.html").read_text("utf-8")
    assert 'class="timeline"' in html and "overdue" in html and "July 1, 2026" in html
    assert 'href="https://' in html and 'rel="noopener noreferrer"' in html


def test_commentary_is_marked_as_not_official(built: Path):
    html = (built / "fr" / "commentary.html").read_text("utf-8")
    assert "Commentaire, pas un engagement officiel" in html


def test_the_search_index_folds_accents_and_stems_like_the_script():
    assert site.fold("Énergie") == "energie" and site.fold("«fentanilo»") == "fentanilo"
    assert site.fold("Œuvre,") == "oeuvre"
    es = site.Indexer("es")
    assert es.terms("El fentanilo y la energía") == es.terms("FENTANILO energia")


def test_as_of_and_filters_reach_the_site(runner, tmp_path: Path):
    out = tmp_path / "s"
    result = build(runner, out, "--pillar", "security", "--as-of", "2025-10-01")
    assert result.exit_code == 0, result.stderr
    pages = {p.stem for p in (out / "en" / "commitment").glob("*.html")}
    kb = load_kb(SHIPPED)
    security = {c.id for c in kb.commitments if kb.scope(c) == "security"}
    assert pages and pages <= security
    assert "October 1, 2025" in (out / "en" / "index.html").read_text("utf-8")


def test_a_non_empty_folder_needs_force_and_must_be_a_site(runner, tmp_path: Path):
    out = tmp_path / "s"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = build(runner, out)
    assert result.exit_code == 2 and "--force" in result.stderr
    result = build(runner, out, "--force")
    assert result.exit_code == 2 and (out / "keep.txt").read_text() == "mine"
    shutil.rmtree(out)
    assert build(runner, out).exit_code == 0
    (out / "en" / "stale.html").write_text("old")
    assert build(runner, out).exit_code == 2
    assert build(runner, out, "--force").exit_code == 0
    assert not (out / "en" / "stale.html").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".cmx-")]


def test_a_failed_build_leaves_nothing(monkeypatch: pytest.MonkeyPatch, runner, tmp_path: Path):
    def boom(*args: Any, **kw: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(site, "_write_language", boom)
    result = build(runner, tmp_path / "s")
    assert result.exit_code == 2 and "No space left" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_site_is_not_text(runner):
    result = runner.invoke(app, ["--data", str(SHIPPED), "export", "site"])
    assert result.exit_code == 2 and "-o DIR" in result.stderr


def test_urls_other_than_http_are_never_links():
    assert site.safe_url("https://example.org/a?b=c#d") == "https://example.org/a?b=c#d"
    for bad in ("javascript:alert(1)", "JaVaScRiPt:x", "data:text/html,x", "//evil", "vbscript:x",
                "https://a.org/\"onmouseover=x", "http://a.org/\x00", None, ""):  # fmt: skip
        assert site.safe_url(bad) is None, bad
    assert site.plain("a\u202eb\u2066c\x1bd") == "abcd"


# ------------------------------------------------------------------ a hostile KB

HOSTILE = "<script>window.pwned=1</script>"
HOSTILE_IMG = '<img src=x onerror="window.pwned=2">'
BIDI = "\u202egnp.exe\u202c"


def hostile_kb():
    kb = load_kb(HERE / "data" / "small")
    c = kb.commitments[0]
    c = dataclasses.replace(
        c,
        title=Text(HOSTILE + BIDI, HOSTILE_IMG, HOSTILE),
        summary=Text(f"javascript:window.pwned=3 {HOSTILE_IMG}", HOSTILE, HOSTILE),
        tags=("</script><script>window.pwned=4</script>",),
    )
    bad = Source("evil-src", HOSTILE, HOSTILE_IMG, SourceKind.NEWS, url="javascript:window.pwned=5")
    c = dataclasses.replace(
        c, sources=(*c.sources, dataclasses.replace(c.sources[0], source=bad.id))
    )
    return dataclasses.replace(
        kb, commitments=(c, *kb.commitments[1:]), sources=(*kb.sources, bad)
    ), c


def test_hostile_text_is_escaped_in_every_file(tmp_path: Path):
    kb, _ = hostile_kb()
    site.build(tmp_path / "s", kb, list(kb.commitments), today=dt.date(2026, 1, 1))
    for path in (tmp_path / "s").rglob("*"):
        if path.suffix in (".html", ".atom"):
            text = path.read_text("utf-8")
            assert "<script>window" not in text and "<img src=x" not in text, path
            assert 'href="javascript:' not in text.lower(), path
            assert "\u202e" not in text, path
            assert len(re.findall(r"<script\b", text)) <= 5, path  # only the site's own
    js = (tmp_path / "s" / "en" / "search-index.js").read_text("utf-8")
    assert "<" not in js and ">" not in js and "\u202e" not in js
    assert "javascript:window.pwned=5" not in (tmp_path / "s" / "en" / "sources.html").read_text()


# ------------------------------------------------------------------ in Chromium


def have_browser() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    if not have_browser():
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="cmx-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,900",
    ):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    drv.set_page_load_timeout(30)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def server(built: Path) -> Iterator[str]:
    """The site over HTTP on 127.0.0.1 (a free port), for the length of the module."""
    handler = functools.partial(QuietHandler, directory=str(built))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(params=["file", "http"])
def base(request: pytest.FixtureRequest, built: Path) -> str:
    if request.param == "file":
        return built.as_uri()
    return str(request.getfixturevalue("server"))


def errors(drv: Any) -> list[dict[str, Any]]:
    return [e for e in drv.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def test_follow_pillar_to_commitment_and_switch_language(driver: Any, base: str):
    from selenium.webdriver.common.by import By

    driver.get_log("browser")
    driver.get(f"{base}/en/index.html")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    driver.find_element(By.CSS_SELECTOR, "ol.pillars a[href='pillar/security.html']").click()
    assert driver.current_url.endswith("/en/pillar/security.html")
    link = driver.find_element(By.CSS_SELECTOR, "ul.items a")
    target = link.get_attribute("href").rsplit("/", 1)[1]
    link.click()
    assert driver.current_url.endswith(f"/en/commitment/{target}")
    assert driver.find_element(By.CSS_SELECTOR, "ol.timeline")
    driver.find_element(By.CSS_SELECTOR, "nav.langs a[hreflang='es']").click()
    assert driver.current_url.endswith(f"/es/commitment/{target}")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "es"
    assert driver.find_element(By.CSS_SELECTOR, "nav.langs a[aria-current]").text == "Español"
    driver.find_element(By.CSS_SELECTOR, "nav.langs a[hreflang='fr']").click()
    assert driver.current_url.endswith(f"/fr/commitment/{target}")
    assert errors(driver) == []


FENTANYL = r"/commitment/(drug-trafficking-fentanyl|counter-fentanyl-funding)\.html$"
ENERGY = r"/(area|commitment)/[a-z-]*energy[a-z-]*\.html$"


@pytest.mark.parametrize(
    ("lang", "query", "expected"),
    [
        ("es", "fentanilo", FENTANYL),
        ("es", "FENTANILO", FENTANYL),
        ("fr", "énergie", ENERGY),
        ("fr", "energie", ENERGY),
        ("fr", "énergétique", ENERGY),
        ("es", "energía", ENERGY),
        ("en", "fentanyl", FENTANYL),
    ],
)
def test_search_finds_the_right_pages(driver: Any, base: str, lang: str, query: str, expected: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("browser")
    driver.get(f"{base}/{lang}/index.html")
    box = driver.find_element(By.ID, "q-top")
    box.send_keys(query, Keys.ENTER)  # the header's form goes to search.html?q=…
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "search-status").text)
    results = driver.find_elements(By.CSS_SELECTOR, "#results a")
    hrefs = [r.get_attribute("href") for r in results]
    assert hrefs and re.search(expected, hrefs[0]), (query, hrefs[:5])
    assert driver.find_element(By.ID, "search-status").text
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys("zzqqxx", Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#results li"))
    assert driver.find_elements(By.CSS_SELECTOR, "#results li") == []
    assert errors(driver) == []


def axe(driver: Any) -> list[dict[str, Any]]:
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e)}]));"
    )
    return [v for v in result if v.get("impact") in ("serious", "critical")]


@pytest.mark.parametrize(
    "page",
    ["index.html", "en/index.html", "es/commitment/cusma-coordination.html",
     "fr/pillar/security.html", "en/sources.html", "fr/commentary.html", "es/changes.html",
     "en/search.html?q=energy"],
)  # fmt: skip
def test_no_serious_accessibility_violation(driver: Any, built: Path, page: str):
    driver.get(f"{built.as_uri()}/{page}")
    found = axe(driver)
    assert found == [], json.dumps(
        [(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in found], indent=1
    )


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
def test_a_phone_never_scrolls_the_page_sideways(driver: Any, built: Path, lang: str):
    """At 390 px (a phone) no page is wider than the screen: a wide table scrolls in
    its own box, and the page can be zoomed and read."""
    driver.set_window_size(390, 900)
    try:
        for page in ("index.html", "commitment/cusma-coordination.html", "sources.html"):
            driver.get(f"{built.as_uri()}/{lang}/{page}")
            wide = driver.execute_script(
                "return [document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert wide[0] <= wide[1], (lang, page, wide)
    finally:
        driver.set_window_size(1280, 900)


def test_hostile_kb_runs_no_script_in_the_browser(driver: Any, tmp_path: Path):
    from selenium.webdriver.common.by import By

    kb, c = hostile_kb()
    site.build(tmp_path / "s", kb, list(kb.commitments), today=dt.date(2026, 1, 1))
    for lang in ("en", "es", "fr"):
        for page in (f"commitment/{c.id}.html", "index.html", "sources.html", "changes.html",
                     "search.html?q=pwned"):  # fmt: skip
            driver.get(f"{(tmp_path / 's').as_uri()}/{lang}/{page}")
            assert driver.execute_script("return window.pwned") is None, (lang, page)
            scripts = driver.find_elements(By.CSS_SELECTOR, "script:not([src])")
            assert scripts == [], (lang, page)
    driver.get(f"{(tmp_path / 's').as_uri()}/en/commitment/{c.id}.html")
    assert HOSTILE in driver.find_element(By.TAG_NAME, "h1").text  # shown as text
    hrefs = [a.get_attribute("href") or "" for a in driver.find_elements(By.TAG_NAME, "a")]
    assert not [h for h in hrefs if h.lower().startswith("javascript:")]


def test_the_site_works_without_javascript_except_search(built: Path):
    """Pages carry no script but the search page's; navigation is plain links."""
    for page in built.rglob("*.html"):
        scripts = re.findall(r"<script\b[^>]*>", page.read_text("utf-8"))
        if page.name == "search.html":
            assert scripts and all("src=" in s for s in scripts)
        else:
            assert scripts == [], page
