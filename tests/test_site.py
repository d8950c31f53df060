"""The course site: it builds offline from the stored outputs, and it works in a browser.

The site is built once per session into a temporary folder (never over ``_site/``) from
every ``notebooks/[0-9]*.ipynb`` and ``README.md``; the build must change no file of the
course folder. The static checks read the HTML. The browser checks drive Debian's
Chromium through Playwright (never a downloaded browser) over http://127.0.0.1, with
every other host blocked, at 1280x900 and 390x844, and save screenshots of the home page
and a lesson to ``_build/screenshots/``. Without Chromium they are skipped, with the
reason, except in CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import os
import posixpath
import re
import shutil
import threading
import urllib.parse
from pathlib import Path

import nbformat
import pytest

from coursekit import facts
from helpers import QuietHandler, file_stats
from tools import build_site

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # builds the site and drives a browser
SCREENSHOTS = REPO / "_build" / "screenshots"
UNWATCHED = {".git", ".venv", "__pycache__", ".pytest_cache"}  # change while tests run
EXTERNAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//")
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
OUTPUT_LINES = 30  # site/_static/course.css: a long output shows 30 lines, then scrolls


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The site built into a temporary folder, and what changed in the course folder meanwhile."""
    tmp = tmp_path_factory.mktemp("site")
    notebooks = build_site.lesson_notebooks()
    assert notebooks, "no lesson in notebooks/ to build the site from"
    before = file_stats(REPO, UNWATCHED)
    out = build_site.build(tmp / "html", tmp / "work", REPO / "README.md", notebooks)
    after = file_stats(REPO, UNWATCHED)
    return out, notebooks, sorted(n for n in before.keys() | after.keys()
                                  if before.get(n) != after.get(n))


@pytest.fixture(scope="module")
def site(built):
    return built[:2]


def html_pages(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*.html") if "_static" not in p.relative_to(out).parts)


@functools.lru_cache(maxsize=None)
def parse(path: Path) -> tuple[list[tuple[str, str, str]], set[str]]:
    """A page's references (tag, attribute, url) and its element ids."""
    text, refs = path.read_text(encoding="utf-8"), []
    for tag in re.finditer(r"<(\w+)\s([^>]*)>", text):
        refs += [(tag[1], a[1], html.unescape(a[2]))
                 for a in re.finditer(r"\b(src|href|srcset|poster)=\"([^\"]*)\"", tag[2])]
    return refs, set(re.findall(r"\bid=\"([^\"]+)\"", text))


def hrefs(path: Path) -> list[str]:
    return [url for tag, attribute, url in parse(path)[0] if tag == "a"]


def test_build_writes_only_its_output(built):
    out, notebooks, changed = built
    assert changed == [], f"building the site changed files of the course: {changed}"
    for nb in notebooks:
        assert (out / "notebooks" / f"{nb.stem}.html").is_file(), f"no page for {nb.name}"
    assert (out / "search.html").is_file() and (out / "searchindex.js").is_file()


def test_every_local_reference_resolves_and_nothing_comes_from_another_host(site):
    """Pages render offline (no script, style, font or image from a CDN; no MathJax),
    and every link, image, script and style on the site's own host exists."""
    out, _ = site
    problems = [f"{p.relative_to(out)}: MathJax" for p in out.rglob("*") if "mathjax" in p.name.lower()]
    for path in html_pages(out):
        here = path.relative_to(out).as_posix()
        for tag, attribute, url in parse(path)[0]:
            if EXTERNAL.match(url) or attribute == "srcset":
                if tag != "a" and not (attribute == "srcset" and not EXTERNAL.match(url)):
                    problems.append(f"{here}: <{tag} {attribute}={url}> from another host")
                continue
            if re.match(r"^[a-z]+:", url):  # mailto:, data:, javascript:
                continue
            target, _, fragment = urllib.parse.unquote(url).partition("#")
            target = posixpath.normpath(posixpath.join(posixpath.dirname(here),
                                                       target.split("?")[0])) if target else here
            file = out / target / "index.html" if (out / target).is_dir() else out / target
            if not file.is_file():
                problems.append(f"{here}: <{tag} {attribute}={url}> (no {target})")
            elif fragment and file.suffix == ".html" and fragment not in parse(file)[1]:
                problems.append(f"{here}: <{tag} {attribute}={url}> (no id {fragment!r})")
    for css in out.rglob("*.css"):
        problems += [f"{css.relative_to(out)}: url({u}) from another host" for u in re.findall(
            r"url\(\s*['\"]?([^'\")]+)", css.read_text(encoding="utf-8", errors="replace"))
            if EXTERNAL.match(u)]
    assert not problems, "\n".join(problems)


def test_lesson_pages_link_colab_source_neighbours_and_full_size_figures(site):
    out, notebooks = site
    home = [h.split("#")[0] for h in hrefs(out / "index.html")]
    for i, nb in enumerate(notebooks):
        page = out / "notebooks" / f"{nb.stem}.html"
        links = hrefs(page)
        assert facts.colab_url(nb.name) in links, f"{nb.name}: no Open-in-Colab link"
        assert any(h.startswith(facts.github_url(f"notebooks/{nb.name}")) for h in links), \
            f"{nb.name}: no link to the source notebook on GitHub"
        for j in (i - 1, i + 1):
            if 0 <= j < len(notebooks):
                assert f"{notebooks[j].stem}.html" in links, f"{nb.name}: no link to {notebooks[j].name}"
        assert f"notebooks/{nb.stem}.html" in home, f"the home page does not list {nb.name}"
        text = page.read_text(encoding="utf-8")
        enlarge = re.findall(r"<a [^>]*class=\"reference internal image-reference\"[^>]*>\s*<img", text)
        figures = sum("image/png" in output.get("data", {})
                      for cell in nbformat.read(nb, as_version=4).cells
                      if cell.cell_type == "code" for output in cell.outputs)
        assert len(enlarge) >= figures, f"{nb.name}: {figures} figures, {len(enlarge)} link to full size"


def test_home_page_gives_each_lesson_its_study_time_and_result(site):
    """Running times from figures/notebook_times.json, results from figures/results.json."""
    out, notebooks = site
    text = " ".join(re.sub(r"<[^>]+>", " ", (out / "index.html").read_text(encoding="utf-8")).split())
    times = json.loads((REPO / "figures" / "notebook_times.json").read_text())
    results = json.loads((REPO / "figures" / "results.json").read_text())
    for nb in notebooks:
        assert html.escape(build_site.lesson_title(nb), quote=False) in text
        if nb.name in times:
            assert f"{-(-times[nb.name] // 60):.0f} to run" in text, nb.name
        ids = [m.id for m in facts.MODELS.values() if m.lesson == nb.name and m.id in results]
        if ids:
            best = [f"{100 * results[i]['test_accuracy']:.1f}%" for i in ids]
            assert any(f"Your best model: {b}" in text for b in best), f"{nb.name}: no result"
    assert not re.search(r"\b[BCDE]\d\b", text), "model codes on the home page"
    assert "make lab" in text and f"git clone {facts.repository_url()}.git" in text


def test_maintainer_pages_are_linked_from_home_but_not_in_sidebar_or_search(site):
    out, notebooks = site
    pages = ["maintainers.html", "contributing.html"]
    assert set(pages) <= set(hrefs(out / "index.html"))
    assert not set(pages) & {posixpath.basename(h) for h in hrefs(out / "notebooks" / f"{notebooks[0].stem}.html")}
    assert "<table" in (out / "maintainers.html").read_text(encoding="utf-8"), "no results table"
    index = json.loads(re.search(r"Search\.setIndex\((.*)\)", (out / "searchindex.js").read_text())[1])
    hidden = {i for i, name in enumerate(index["docnames"]) if name in ("maintainers", "contributing")}
    found = {w for w, docs in index["terms"].items() if hidden & set(docs if isinstance(docs, list) else [docs])}
    assert len(hidden) == 2 and not found, f"search finds the maintainers' pages by {sorted(found)[:5]}"
    # A '#' line inside a paragraph of CONTRIBUTING.md is not a heading.
    page = (out / "contributing.html").read_text(encoding="utf-8").split("<article")[1]
    headings = re.findall(r"<h[1-6][^>]*>(.*?)</h", page.split("</article>")[0])
    expected = re.findall(r"^#+\s+(.*)$", (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8"), re.M)
    assert len(headings) <= len(expected) and "Writing and maintaining lessons" in headings[0]


def test_number_fields_show_their_value_only(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "# Fields\n\nThe model reaches <!--{results['B1']['test_accuracy']}-->0.9381<!--/-->\n"
        "<!--{epochs}-->2<!--/--> epochs, `code <!--{x}-->7<!--/-->`.")])
    nbformat.write(nb, tmp_path / "01_fields.ipynb")
    out = build_site.build(tmp_path / "html", tmp_path / "work", None, [tmp_path / "01_fields.ipynb"])
    page = (out / "notebooks" / "01_fields.html").read_text(encoding="utf-8")
    article = page.split("<article")[1].split("</article>")[0]
    assert "reaches 0.9381\n2 epochs" in article and "<!--" not in article, article


# --------------------------------------------------------------------------- the browser

@pytest.fixture(scope="module")
def browser(site):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        message = "Chromium not found: `apt-get install chromium` (Debian/Ubuntu)"
        pytest.fail(message + "; CI must run the browser tests") if os.environ.get("CI") else \
            pytest.skip(message)
    from playwright.sync_api import sync_playwright
    handler = functools.partial(QuietHandler, directory=str(site[0]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched, f"http://127.0.0.1:{server.server_address[1]}/"
        finally:
            launched.close()
            server.shutdown()
            server.server_close()


def open_page(browser, size: str):
    """A page at ``size`` that records errors and blocks (and records) other hosts."""
    width, height = SIZES[size]
    page = browser[0].new_page(viewport={"width": width, "height": height})
    page.problems = []
    page.route(lambda url: not url.startswith(browser[1]),
               lambda route: (page.problems.append(f"fetched {route.request.url}"), route.abort()))
    page.on("console", lambda m: m.type in ("error", "assert") and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(f"exception: {e}"))
    page.on("response", lambda r: r.status >= 400 and page.problems.append(f"HTTP {r.status} {r.url}"))
    return page


MEASURE = """async (lines) => {
    const images = Array.from(document.images);
    images.forEach(i => { i.loading = 'eager'; });
    const broken = (await Promise.all(images.map(i => i.decode().then(() => null,
        () => i.getAttribute('src'))))).filter(Boolean);
    const root = document.documentElement, px = v => parseFloat(v) || 0;
    const wrapped = Array.from(document.querySelectorAll('.bd-article pre'))
        .filter(p => getComputedStyle(p).whiteSpace !== 'pre').length;
    const boxes = Array.from(document.querySelectorAll('div.cell_output div.output'))
        .filter(b => b.scrollHeight > b.clientHeight + 1 && b.querySelector('pre')).map(b => {
            const pre = b.querySelector('pre'), s = getComputedStyle(pre), lh = px(s.lineHeight);
            const top = pre.getBoundingClientRect().top - b.getBoundingClientRect().top - b.clientTop;
            const rest = (b.clientHeight - top - px(s.paddingTop) - px(s.borderTopWidth)) % lh;
            return {text: pre.textContent.trim().slice(0, 50), tall: b.clientHeight > (lines + 2) * lh,
                    cut: Math.min(rest, lh - rest) > 1};
        });
    return {broken, wrapped, sideways: root.scrollWidth - root.clientWidth, boxes};
}"""


@pytest.fixture(scope="module")
def visits(site, browser):
    """Every page opened at both sizes: {size: {page: what was measured}}."""
    out, _ = site
    found = {}
    for size in SIZES:
        page, found[size] = open_page(browser, size), {}
        for path in html_pages(out):
            relative = path.relative_to(out).as_posix()
            page.problems.clear()
            page.goto(browser[1] + relative, wait_until="load")
            found[size][relative] = page.evaluate(MEASURE, OUTPUT_LINES)
            found[size][relative]["problems"] = page.problems[:]
        page.close()
    return found


def test_every_page_loads_without_errors_or_other_hosts(visits):
    problems = [f"{size} {page}: {p}" for size, pages in visits.items()
                for page, seen in pages.items()
                for p in seen["problems"] + [f"broken image {s}" for s in seen["broken"]]]
    assert not problems, "\n".join(problems)


def test_no_page_scrolls_sideways(visits):
    wide = [f"{size} {page}: {seen['sideways']} px" for size, pages in visits.items()
            for page, seen in pages.items() if seen["sideways"] > 0]
    assert not wide, "pages wider than the screen:\n" + "\n".join(wide)


def test_code_does_not_wrap_and_long_outputs_scroll_in_whole_lines(visits):
    problems = []
    for size, pages in visits.items():
        for page, seen in pages.items():
            if seen["wrapped"]:
                problems.append(f"{size} {page}: {seen['wrapped']} code blocks wrap their lines")
            problems += [f"{size} {page}: box {'taller than the page allows' if b['tall'] else 'cuts a line'}:"
                         f" {b['text']!r}" for b in seen["boxes"] if b["tall"] or b["cut"]]
    assert not problems, "\n".join(problems)


def test_home_page_first_screen_says_for_whom_how_long_and_where_to_start(site, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    lesson = f"notebooks/{site[1][0].stem}.html"
    for size, (width, height) in SIZES.items():
        page = open_page(browser, size)
        page.goto(browser[1] + "index.html", wait_until="load")
        for what in ("For whom", "How long", "Start lesson 1", "Open lesson 1 in Colab"):
            box = page.get_by_text(what).first.bounding_box()
            assert box and box["y"] + box["height"] <= height, f"{size}: {what!r} not on the first screen"
        assert page.get_by_role("link", name="Start lesson 1").get_attribute("href") == lesson
        page.screenshot(path=SCREENSHOTS / f"home-{size}.png")
        page.goto(browser[1] + lesson, wait_until="load")
        page.screenshot(path=SCREENSHOTS / f"lesson-{size}.png")
        page.close()


def test_search_works_offline(site, browser):
    _, notebooks = site
    word = max(re.findall(r"[A-Za-z]{4,}", build_site.lesson_title(notebooks[0])), key=len)
    page = open_page(browser, "desktop")
    page.goto(browser[1] + "search.html?q=" + urllib.parse.quote(word), wait_until="load")
    page.wait_for_selector("#search-results li a", timeout=10_000)
    hits = [a.get_attribute("href") for a in page.query_selector_all("#search-results li a")]
    assert any(notebooks[0].stem in hit for hit in hits), f"search for {word!r} found {hits}"
    assert not page.problems, page.problems
    page.close()
