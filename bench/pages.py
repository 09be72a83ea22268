#!/usr/bin/env python3
"""Printed length of the summary: does it fit the page a memo gives it?

usage: python bench/pages.py [--today 2026-12-06] [--langs en es fr] [--out bench/out/pages]

For each language it renders the whole-plan summary (`cmx export markdown`) and each
pillar's (`--pillar X`) as a reader would: pandoc to standalone HTML (pandoc's own
stylesheet), printed by headless Debian Chromium (Letter and A4, Chromium's default
margins, no headers or footers). It measures the body, everything before the Sources
list, and reports for each paper size:
  pages   the PDF pages of the body alone (the whole document's are given too)
  fill    how far down the page the body's last line ends, as a fraction of one page's
          printable height (print media at the printable width; the white space under
          the last line is not counted), so 0.48 ends just before half a page
Targets (issue 22): the whole plan's body on 1 page, each pillar's on half a page (fill
<= 0.5), in every language. Exit status 1 when a target is missed.

Chromium is driven through chromedriver (selenium, a test extra); nothing is downloaded.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CMX = shutil.which("cmx", path=str(Path(sys.executable).parent)) or "cmx"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
PILLARS = ("prosperity", "mobility", "security", "environment")
# Paper (inches) and Chromium's default margins (DevTools printToPDF: 0.4 in each side).
PAPERS = {"Letter": (8.5, 11.0), "A4": (8.27, 11.69)}
MARGIN = 0.4
CSS_PX = 96  # CSS pixels per inch


def summary(lang: str, today: str, pillar: str | None) -> str:
    argv = [CMX, "--quiet", "--today", today, "export", "markdown", "--lang", lang]
    argv += ["--pillar", pillar] if pillar else []
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def body_of(markdown: str) -> str:
    """The summary up to its Sources list (its last second-level heading)."""
    lines = markdown.splitlines()
    heads = [i for i, line in enumerate(lines) if line.startswith("## ")]
    return "\n".join(lines[: heads[-1]] if heads else lines) + "\n"


def to_html(markdown: str, path: Path) -> Path:
    subprocess.run(
        ["pandoc", "--standalone", "--from", "markdown", "--to", "html5", "-o", str(path)],
        input=markdown, check=True, text=True,
    )  # fmt: skip
    return path


def browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="cmx-pages-")
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}"):  # fmt: skip
        options.add_argument(arg)
    return webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))


def measure(drv: Any, html: Path, paper: str) -> tuple[int, float]:
    """(PDF pages, printed height in pages) of one HTML file on one paper size."""
    width, height = PAPERS[paper]
    drv.get(html.as_uri())
    pdf = drv.execute_cdp_cmd(
        "Page.printToPDF",
        {"paperWidth": width, "paperHeight": height, "displayHeaderFooter": False},
    )  # default margins
    pages = len(re.findall(rb"/Type\s*/Page\b", base64.b64decode(pdf["data"])))
    # The same layout on screen: print media at the printable width.
    drv.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    printable = round((width - 2 * MARGIN) * CSS_PX)
    drv.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": printable, "height": 800, "deviceScaleFactor": 1, "mobile": False},
    )
    tall = drv.execute_script(  # from the page's top to the last line's bottom
        "const last = document.body.lastElementChild;"
        "return last.getBoundingClientRect().bottom + window.scrollY;"
    )
    drv.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    drv.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    return pages, float(tall) / ((height - 2 * MARGIN) * CSS_PX)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--today", default="2026-12-06")
    ap.add_argument("--langs", nargs="+", default=["en", "es", "fr"])
    ap.add_argument("--out", type=Path, default=HERE / "out" / "pages")
    args = ap.parse_args()
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists() and shutil.which("pandoc")):
        print("needs pandoc, /usr/bin/chromium and /usr/bin/chromedriver", file=sys.stderr)
        return 2
    os.environ.setdefault("CMX_QUIET", "1")
    args.out.mkdir(parents=True, exist_ok=True)
    drv = browser()
    missed = 0
    try:
        print(f"{'summary':<24}{'paper':<8}{'body pages':>11}{'fill':>7}{'all pages':>10}  target")
        for lang in args.langs:
            for pillar in (None, *PILLARS):
                name = f"{lang}-{pillar or 'plan'}"
                text = summary(lang, args.today, pillar)
                (args.out / f"{name}.md").write_text(text, encoding="utf-8")
                whole = to_html(text, args.out / f"{name}.html")
                body = to_html(body_of(text), args.out / f"{name}-body.html")
                for paper in PAPERS:
                    pages, fill = measure(drv, body, paper)
                    total, _ = measure(drv, whole, paper)
                    limit = 1.0 if pillar is None else 0.5
                    ok = pages == 1 and fill <= limit
                    missed += not ok
                    verdict = ("ok" if ok else "MISSED") + f" (<= {limit:g} page)"
                    print(f"{name:<24}{paper:<8}{pages:>11}{fill:>7.2f}{total:>10}  {verdict}")
    finally:
        drv.quit()
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
