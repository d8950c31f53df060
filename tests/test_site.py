"""The course site: it builds offline from the stored outputs, and it works in a browser.

Built once per module into a temporary folder, changing no file of the course. The browser
test drives Debian's Chromium through Playwright (never a downloaded browser) with every
host but 127.0.0.1 blocked, at 1280x900 and 390x844, and leaves screenshots of the home
page and a lesson in ``_build/screenshots/``. Without Chromium it skips, or fails in CI.
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
    MathJax is shipped; a number field <!--{expression}-->value<!--/--> shows its value
    only. (The browser test sees anything fetched from another host.)"""
    out, _, changed = site
    problems = [f"building the site changed {name}" for name in changed]
    problems += [f"{p.relative_to(out)}: MathJax" for p in out.rglob("*mathjax*")]
    for path in sorted(out.rglob("*.html")):
        here = path.relative_to(out).as_posix()
        problems += [f"{here}: a number field's comment"] * ("<!--{" in parse(path)[2])
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
    hidden = {index["docnames"].index(page[:-len(".html")]) for page in pages}
    found = [w for w, docs in index["terms"].items()
             if hidden & set(docs if isinstance(docs, list) else [docs])]
    assert not found, f"search finds maintainers' pages by {found[:5]}"
    headings = re.findall(r"<h[1-6]", parse(out / "contributing.html")[2])
    written = re.findall(r"^#+\s", (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8"), re.M)
    assert 0 < len(headings) <= len(written), "a '#' line in a paragraph became a heading"


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
        launched = playwright.chromium.launch(executable_path=chromium)  # no background traffic
        yield launched, f"http://127.0.0.1:{server.server_address[1]}/"
        launched.close()
        server.shutdown()


# What is wrong with the open page: broken images, sideways scrolling, wrapped code, output
# boxes too tall or cutting a line; then, solutions opened, each lesson figure's caption,
# link to its full image, height, and text size (``wanted``: in the image, in px).
MEASURE = """async ({lines, wanted, share}) => {
    const found = (await Promise.all(Array.from(document.images, i => (i.loading = 'eager',
        i.decode().then(() => null, () => `broken image ${i.getAttribute('src')}`)))))
        .filter(Boolean);
    const root = document.documentElement, px = v => parseFloat(v) || 0;
    const code = Array.from(document.querySelectorAll('.bd-article pre'));
    const wrapped = code.filter(p => getComputedStyle(p).whiteSpace !== 'pre').length;
    if (root.scrollWidth > root.clientWidth)
        found.push(`${root.scrollWidth - root.clientWidth} px too wide`);
    if (wrapped) found.push(`${wrapped} code blocks wrap`);
    for (const box of document.querySelectorAll('div.cell_output div.output')) {
        const pre = box.querySelector('pre');
        if (!pre || box.scrollHeight <= box.clientHeight + 1) continue;  // not a scroll box
        const s = getComputedStyle(pre), lh = px(s.lineHeight), text = pre.textContent.trim();
        const top = pre.getBoundingClientRect().top - box.getBoundingClientRect().top
            - box.clientTop + px(s.paddingTop) + px(s.borderTopWidth);
        const rest = (box.clientHeight - top) % lh;  // of a line cut by the box's bottom
        if (box.clientHeight > (lines + 2) * lh) found.push(`box too tall: ${text.slice(0, 50)}`);
        else if (Math.min(rest, lh - rest) > 1) found.push(`box cuts a line: ${text.slice(0, 50)}`);
    }
    const small = code.length ? px(getComputedStyle(code[0]).fontSize) : 0;
    document.querySelectorAll('.bd-article details').forEach(d => d.open = true);
    const figures = document.querySelectorAll('.bd-article .cell_output img');
    if (figures.length !== wanted.length)
        found.push(`${wanted.length} figures, ${figures.length} shown`);
    figures.forEach((image, n) => {
        const link = image.closest('a.image-reference'), at = `figure ${n + 1}:`;
        const text = wanted[n] * image.getBoundingClientRect().width / image.naturalWidth;
        if (!image.closest('figure')?.querySelector('figcaption')?.textContent.trim())
            found.push(`${at} no caption`);
        if (link?.href !== image.src || link.tabIndex < 0) found.push(`${at} no full-size link`);
        if ((link || image).getBoundingClientRect().height > innerHeight)
            found.push(`${at} taller than the screen`);
        if (text < share * small) found.push(`${at} text ${text.toFixed(1)} px`);
    });
    return found;
}"""


def test_every_page_works_at_both_sizes(site, browser):
    """Every page at 1280 and 390 px: no console error, failed request, other host, broken
    image, sideways page, wrapped code or output box too tall or cutting a line. The home
    page's first screen says for whom, how long and where to start; search finds lesson 1 by
    its title; a lesson's first figure opens full size on Enter (desktop) or a click (phone).
    Every figure of a lesson has a caption and a link to its full image, fits the screen (a
    taller one scrolls in its box), and at 1280 px its smallest text is at most 10% under the
    small print: display scale x text size in the image, 14 pt at 70 dpi in a Keras diagram
    (coursekit's save_model_diagram), else matplotlib's 10 pt or the cell's smallest
    ``fontsize=`` at the notebook's 100 dpi."""
    from playwright.sync_api import expect
    (out, notebooks, _), (launched, base) = site, browser
    lesson = f"notebooks/{notebooks[0].stem}.html"
    shots = {"index.html": "home", lesson: "lesson"}
    word = max(re.findall(r"[A-Za-z]{4,}", build_site.lesson_facts(notebooks[0])[0]), key=len)
    text_px = {f"notebooks/{nb.stem}.html": [
        14 * 70 / 72 if "save_model_diagram" in c.source else 100 / 72 * min(
            [10, *map(int, re.findall(r"fontsize=(\d+)", c.source))])
        for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "code"
        for o in c.outputs if "image/png" in o.get("data", {})] for nb in notebooks}
    problems = []
    for size, (width, height) in SIZES.items():
        page, heard = launched.new_page(viewport={"width": width, "height": height}), []
        page.route(lambda url: not url.startswith(base), lambda route: (
            heard.append(f"fetched {route.request.url}"), route.abort()))
        page.on("console", lambda m: m.type in ("error", "assert") and heard.append(m.text))
        page.on("pageerror", lambda e: heard.append(f"exception: {e}"))
        page.on("response", lambda r: r.status >= 400 and heard.append(f"{r.status} {r.url}"))
        for address in sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html")):
            query = "?q=" + urllib.parse.quote(word) if address == "search.html" else ""
            page.goto(base + address + query, wait_until="load")
            if address in shots:
                page.screenshot(path=SCREENSHOTS / f"{shots[address]}-{size}.png")
            if address == "index.html":  # its first screen: what, for whom, how long, start
                for shown in [page.locator(".bd-article h1"), *map(page.get_by_text, (
                        "For whom", "How long", "Start lesson 1", "Open lesson 1 in Colab"))]:
                    expect(shown.first).to_be_in_viewport(ratio=1)
                start = page.get_by_role("link", name="Start lesson 1")
                expect(start).to_have_attribute("href", lesson)
            if query:  # search works offline, and finds lesson 1 by its title
                page.locator(f"#search-results a[href*='{notebooks[0].stem}']").first.wait_for()
            heard += page.evaluate(MEASURE, {"lines": OUTPUT_LINES, "wanted": text_px.get(
                address, []), "share": SMALL_PRINT_SHARE * (size == "desktop")})
            if address == lesson:  # its first figure opens full size (leaving the page)
                figure = page.locator(".bd-article a.image-reference").first
                image = urllib.parse.urljoin(page.url, figure.get_attribute("href"))
                figure.press("Enter") if size == "desktop" else figure.click()
                page.wait_for_url(image, timeout=5_000)
            problems += [f"{size} {address}: {problem}" for problem in heard]
            heard.clear()
        page.close()
    assert not problems, "\n".join(problems)
