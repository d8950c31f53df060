"""The course site: it builds offline from the stored outputs, and it works in a browser.

Built once per module into a temporary folder, changing no file of the course. The browser
checks drive Debian's Chromium through Playwright (never a downloaded browser) with every
host but 127.0.0.1 blocked, at 1280x900 and 390x844, and leave screenshots of the home
page and a lesson in ``_build/screenshots/``. Without Chromium they skip, or fail in CI.
"""

import functools, html, http.server, json, os, posixpath, re, shutil, threading, urllib.parse
from pathlib import Path

import nbformat
import pytest

from coursekit import facts
from coursekit.paths import COURSE_ROOT as REPO
from helpers import QuietHandler, file_stats
from tools import build_site

pytestmark = pytest.mark.slow  # builds the site and drives a browser
SCREENSHOTS = REPO / "_build" / "screenshots"
UNWATCHED = {".git", ".venv", "__pycache__", ".pytest_cache"}  # change while tests run
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
OUTPUT_LINES = 30  # site/_static/course.css: a long output shows 30 lines, then scrolls
# A figure's text may be 10% under the body's small print, its code and outputs' (12 px):
# the 10 pt text of coursekit.lessons' 10-inch curves shows at 10.9 px in a solution box.
SMALL_PRINT_SHARE = 0.9


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(folder of the site, its lessons, files of the course changed while it was built)."""
    tmp, notebooks = tmp_path_factory.mktemp("site"), build_site.lesson_notebooks()
    before = file_stats(REPO, UNWATCHED)
    out = build_site.build(tmp / "html", tmp / "work", notebooks)
    after = file_stats(REPO, UNWATCHED)
    return out, notebooks, sorted(n for n in before.keys() | after.keys()
                                  if before.get(n) != after.get(n))


@functools.lru_cache(maxsize=None)
def parse(path: Path) -> tuple[list[tuple[str, str, str]], set[str], str]:
    """A page's references (tag, attribute, url), its element ids, and its article."""
    text, refs = path.read_text(encoding="utf-8"), []
    for tag in re.finditer(r"<(\w+)\s([^>]*)>", text):
        refs += [(tag[1], a[1], html.unescape(a[2]))
                 for a in re.finditer(r"\b(src|href|srcset|poster)=\"([^\"]*)\"", tag[2])]
    article = re.search(r"<article.*?</article>", text, re.S)
    return refs, set(re.findall(r"\bid=\"([^\"]+)\"", text)), article[0] if article else ""


def links(path: Path) -> list[str]:
    return [url for tag, _, url in parse(path)[0] if tag == "a"]


def test_build_writes_only_its_output_and_every_local_reference_resolves(site):
    """Every link (anchors included), image, script and style of the site exists; no
    MathJax is shipped. (The browser test sees anything fetched from another host.)"""
    out, _, changed = site
    problems = [f"building the site changed {name}" for name in changed]
    problems += [f"{p.relative_to(out)}: MathJax" for p in out.rglob("*mathjax*")]
    for path in sorted(out.rglob("*.html")):
        here = path.relative_to(out).as_posix()
        for tag, attribute, url in parse(path)[0]:
            if attribute == "srcset" or re.match(r"[a-z]+:|//", url):
                continue
            target, _, fragment = urllib.parse.unquote(url).partition("#")
            target = posixpath.normpath(posixpath.join(
                posixpath.dirname(here), target.split("?")[0])) if target else here
            file = out / target / "index.html" if (out / target).is_dir() else out / target
            if not file.is_file():
                problems.append(f"{here}: <{tag} {attribute}={url}> (no {target})")
            elif fragment and file.suffix == ".html" and fragment not in parse(file)[1]:
                problems.append(f"{here}: <{tag} {attribute}={url}> (no id {fragment!r})")
    assert not problems, "\n".join(problems)


def test_home_lists_each_lesson_with_its_time_and_result_and_lessons_link_on(site):
    """Times from figures/notebook_times.json, results from figures/results.json; each lesson
    links Colab, its source notebook and its neighbours."""
    out, notebooks, _ = site
    home = [h.split("#")[0] for h in links(out / "index.html")]
    text = " ".join(re.sub(r"<[^>]+>", " ", parse(out / "index.html")[2]).split())
    times = json.loads((REPO / "figures" / "notebook_times.json").read_text())
    results = json.loads((REPO / "figures" / "results.json").read_text())
    for i, nb in enumerate(notebooks):
        hrefs = links(out / "notebooks" / f"{nb.stem}.html")
        assert facts.colab_url(nb.name) in hrefs, f"{nb.name}: no Open-in-Colab link"
        assert any(h.startswith(facts.github_url(f"notebooks/{nb.name}")) for h in hrefs), \
            f"{nb.name}: no link to the source notebook on GitHub"
        for other in notebooks[max(i - 1, 0):i] + notebooks[i + 1:i + 2]:
            assert f"{other.stem}.html" in hrefs, f"{nb.name}: no link to {other.name}"
        assert f"notebooks/{nb.stem}.html" in home, f"the home page does not list {nb.name}"
        assert html.escape(build_site.lesson_facts(nb)[0], quote=False) in text
        assert nb.name not in times or f"{-(-times[nb.name] // 60):.0f} to run" in text, nb.name
        said = [f"Your best model: {100 * results[m.id]['test_accuracy']:.1f}%"
                for m in facts.MODELS.values() if m.lesson == nb.name and m.id in results]
        assert not said or any(s in text for s in said), f"{nb.name}: no result"
    assert not re.search(r"\b[BCDE]\d\b", text), "model codes on the home page"
    assert "make lab" in text and f"git clone {facts.repository_url()}.git" in text


def test_maintainer_pages_are_linked_from_home_but_not_in_sidebar_or_search(site):
    out, notebooks, _ = site
    pages = {"maintainers.html", "contributing.html"}
    assert pages <= set(links(out / "index.html"))
    lesson = out / "notebooks" / f"{notebooks[0].stem}.html"
    assert not pages & {posixpath.basename(h) for h in links(lesson)}, "in the sidebar"
    assert "<table" in parse(out / "maintainers.html")[2], "the README's table is not shown"
    index = json.loads((out / "searchindex.js").read_text().strip()[len("Search.setIndex("):-1])
    hidden = {i for i, name in enumerate(index["docnames"]) if name + ".html" in pages}
    found = [w for w, docs in index["terms"].items()
             if hidden & set(docs if isinstance(docs, list) else [docs])]
    assert len(hidden) == 2 and not found, f"search finds maintainers' pages by {found[:5]}"
    headings = re.findall(r"<h[1-6]", parse(out / "contributing.html")[2])
    written = re.findall(r"^#+\s", (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8"), re.M)
    assert 0 < len(headings) <= len(written), "a '#' line in a paragraph became a heading"


def test_number_fields_show_their_value_only(tmp_path):
    """A field <!--{expression}-->value<!--/--> is its value (a line may start with one)."""
    text = "It reaches <!--{results['B1']['test_accuracy']}-->0.9381<!--/-->\n<!--{e}-->2<!--/-->"
    assert build_site.site_markdown(text + " epochs.", "notebooks", tmp_path) == \
        "It reaches 0.9381\n2 epochs."


# --------------------------------------------------------------------------- the browser

@pytest.fixture(scope="module")
def browser(site):
    """Chromium through Playwright, and the address of the site served on this machine."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        (pytest.fail if os.environ.get("CI") else pytest.skip)(
            "Chromium not found: `apt-get install chromium` (CI must run the browser tests)")
    from playwright.sync_api import sync_playwright
    handler = functools.partial(QuietHandler, directory=str(site[0]))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server, \
            sync_playwright() as playwright:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched, f"http://127.0.0.1:{server.server_address[1]}/"
        launched.close()
        server.shutdown()


def open_page(browser, size: str, address: str):
    """A tab at ``size`` on ``address`` that records errors, and blocks and records other
    hosts, in ``page.problems``."""
    launched, base = browser
    width, height = SIZES[size]
    page = launched.new_page(viewport={"width": width, "height": height})
    page.problems = []
    page.route(lambda url: not url.startswith(base), lambda route: (
        page.problems.append(f"fetched {route.request.url}"), route.abort()))
    page.on("console", lambda m: m.type in ("error", "assert") and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(f"exception: {e}"))
    page.on("response", lambda r: r.status >= 400 and page.problems.append(f"{r.status} {r.url}"))
    page.goto(base + address, wait_until="load")
    return page


# Broken images, wrapped code, sideways scrolling, output boxes too tall or cutting a line;
# then, solutions opened, each figure: caption, full-size link, height, display scale.
MEASURE = """async (lines) => {
    const broken = (await Promise.all(Array.from(document.images).map(i => (i.loading = 'eager',
        i.decode().then(() => null, () => i.getAttribute('src')))))).filter(Boolean);
    const root = document.documentElement, px = v => parseFloat(v) || 0;
    const code = Array.from(document.querySelectorAll('.bd-article pre'));
    const boxes = Array.from(document.querySelectorAll('div.cell_output div.output'))
        .filter(b => b.scrollHeight > b.clientHeight + 1 && b.querySelector('pre')).map(b => {
            const pre = b.querySelector('pre'), s = getComputedStyle(pre), lh = px(s.lineHeight);
            const top = pre.getBoundingClientRect().top - b.getBoundingClientRect().top
                - b.clientTop + px(s.paddingTop) + px(s.borderTopWidth);
            const rest = (b.clientHeight - top) % lh;  // of a line cut by the box's bottom
            return {text: pre.textContent.trim().slice(0, 50),
                    tall: b.clientHeight > (lines + 2) * lh, cut: Math.min(rest, lh - rest) > 1};
        });
    const wrapped = code.filter(p => getComputedStyle(p).whiteSpace !== 'pre').length;
    const small = code.length ? px(getComputedStyle(code[0]).fontSize) : 0;
    document.querySelectorAll('.bd-article details').forEach(d => d.open = true);
    const figures = Array.from(document.querySelectorAll('.bd-article .cell_output img'), i => {
        const link = i.closest('a.image-reference');
        return {caption: i.closest('figure')?.querySelector('figcaption')?.textContent.trim(),
                enlarge: link?.href === i.src && link.tabIndex >= 0, small,
                height: (link || i).getBoundingClientRect().height,
                scale: i.getBoundingClientRect().width / i.naturalWidth};
    });
    return {broken, wrapped, sideways: root.scrollWidth - root.clientWidth, boxes, figures};
}"""


@pytest.fixture(scope="module")
def visits(site, browser):
    """Every page opened at both sizes: {(size, page): what was measured}."""
    found = {}
    for size in SIZES:
        page = open_page(browser, size, "index.html")  # one tab: each page's problems alone
        for relative in sorted(p.relative_to(site[0]).as_posix() for p in site[0].rglob("*.html")):
            page.problems.clear()
            page.goto(browser[1] + relative, wait_until="load")
            found[size, relative] = page.evaluate(MEASURE, OUTPUT_LINES)
            found[size, relative]["problems"] = [f"{size} {relative}: {p}" for p in page.problems]
        page.close()
    return found


def test_pages_load_without_errors_fit_the_screen_and_show_code_and_figures(site, visits):
    """No console error, failed request, other host, sideways page, wrapped code or cut line.
    Every figure of a lesson has a caption and a link to its full image, fits the screen (a
    taller one scrolls in its box), and at 1280 px its smallest text is at most 10% under the
    small print: display scale x text size in the image, 14 pt at 70 dpi in a Keras diagram
    (coursekit's save_model_diagram), else matplotlib's 10 pt or the cell's smallest
    ``fontsize=`` at the notebook's 100 dpi."""
    problems = []
    for (size, page), seen in visits.items():
        problems += seen["problems"] + [f"broken image {src}" for src in seen["broken"]]
        problems += [f"{size} {page}: {seen['sideways']} px too wide"] * (seen["sideways"] > 0)
        problems += [f"{size} {page}: {seen['wrapped']} code blocks wrap"] * bool(seen["wrapped"])
        problems += [f"{size} {page}: box {'too tall' if box['tall'] else 'cuts a line'}: "
                     f"{box['text']!r}" for box in seen["boxes"] if box["tall"] or box["cut"]]
    for nb, (size, (_, height)) in ((nb, s) for nb in site[1] for s in SIZES.items()):
        shown = visits[size, f"notebooks/{nb.stem}.html"]["figures"]
        cells = [c for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "code"]
        wanted = [14 * 70 / 72 if "save_model_diagram" in c.source else 100 / 72 * min(
                  [10, *map(int, re.findall(r"fontsize=(\d+)", c.source))])
                  for c in cells for o in c.outputs if "image/png" in o.get("data", {})]
        problems += [f"{nb.name}: {len(wanted)} figures, {len(shown)} shown"] * (
            len(shown) != len(wanted))
        for n, (figure, px) in enumerate(zip(shown, wanted), start=1):
            where, px = f"{size} {nb.name} figure {n}", px * figure["scale"]
            problems += [f"{where}: no caption"] * (not figure["caption"])
            problems += [f"{where}: no link to its full image"] * (not figure["enlarge"])
            problems += [f"{where}: taller than the screen"] * (figure["height"] > height)
            problems += [f"{where}: text {px:.1f} px"] * (
                size == "desktop" and px < SMALL_PRINT_SHARE * figure["small"])
    assert not problems, "\n".join(problems)


def test_home_page_first_screen_says_for_whom_how_long_and_where_to_start(site, browser):
    """... and a lesson's first figure opens full size on Enter (desktop) or a click (phone)."""
    lesson = f"notebooks/{site[1][0].stem}.html"
    for size, (_, height) in SIZES.items():
        page = open_page(browser, size, "index.html")
        for what in ("For whom", "How long", "Start lesson 1", "Open lesson 1 in Colab"):
            box = page.get_by_text(what).first.bounding_box()
            assert box and box["y"] + box["height"] <= height, f"{size}: {what!r} not in view"
        assert page.get_by_role("link", name="Start lesson 1").get_attribute("href") == lesson
        page.screenshot(path=SCREENSHOTS / f"home-{size}.png")
        page.goto(browser[1] + lesson, wait_until="load")
        page.screenshot(path=SCREENSHOTS / f"lesson-{size}.png")
        figure = page.locator(".bd-article a.image-reference").first
        image = urllib.parse.urljoin(page.url, figure.get_attribute("href"))
        figure.press("Enter") if size == "desktop" else figure.click()
        page.wait_for_url(image, timeout=5_000)
        page.close()


def test_search_works_offline(site, browser):
    first = site[1][0]
    word = max(re.findall(r"[A-Za-z]{4,}", build_site.lesson_facts(first)[0]), key=len)
    page = open_page(browser, "desktop", "search.html?q=" + urllib.parse.quote(word))
    page.wait_for_selector("#search-results li a", timeout=10_000)
    hits = [a.get_attribute("href") for a in page.query_selector_all("#search-results li a")]
    assert any(first.stem in hit for hit in hits), f"search for {word!r} found {hits}"
