"""The course site builds offline from the stored outputs (once per module, in a temporary
folder) and works in Debian's Chromium, driven by Playwright with every host but 127.0.0.1
blocked, at 1280x900 and 390x844 (screenshots of the home page and a lesson are left in
``_build/screenshots/``). Without Chromium the browser test skips, or fails in CI."""

import functools, html, http.server, json, os, posixpath, re, shutil, threading, urllib.parse
from pathlib import Path

import nbformat
import pytest

from coursekit import facts
from coursekit.paths import COURSE_ROOT as REPO
from helpers import QuietHandler, file_stats
from tools import build_site

pytestmark = pytest.mark.slow  # builds the site and drives a browser
UNWATCHED = {".git", ".venv", "__pycache__", ".pytest_cache"}  # change while tests run
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
OUTPUT_LINES = 30  # site/_static/course.css: a long output shows 30 lines, then scrolls


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(folder of the site, its lessons, files of the course changed while it was built)."""
    tmp, before = tmp_path_factory.mktemp("site"), file_stats(REPO, UNWATCHED)
    out = build_site.build(tmp / "html", tmp / "work", build_site.LESSONS)
    changed = before.items() ^ file_stats(REPO, UNWATCHED).items()
    return out, build_site.LESSONS, sorted({name for name, _ in changed})


def links(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [html.unescape(url) for url in re.findall(r"<a\s[^>]*?\bhref=\"([^\"]*)\"", text)]


def article(path: Path) -> str:
    """A page less the theme's frame (header, sidebars, footer)."""
    return re.search(r"<article.*?</article>", path.read_text(encoding="utf-8"), re.S)[0]


def test_build_writes_only_its_output_and_every_local_reference_resolves(site):
    """Every link (anchors included), image, script and style of the site exists; no
    MathJax is shipped (no page has a formula); a number field <!--{expression}-->value
    <!--/--> shows its value only. (The browser test sees anything from another host.)"""
    out, _, changed = site
    pages = {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8")
             for p in out.rglob("*.html")}
    ids = {page: set(re.findall(r"\bid=\"([^\"]+)\"", text)) for page, text in pages.items()}
    problems = [f"building the site changed {name}" for name in changed]
    problems += [f"{p.relative_to(out)}: MathJax" for p in out.rglob("*mathjax*")]
    for page, text in pages.items():
        problems += [f"{page}: a number field's comment"] * ("<!--{" in text)
        for url in map(html.unescape, re.findall(r"\b(?:src|href|poster)=\"([^\"]*)\"", text)):
            target = urllib.parse.urlsplit(urllib.parse.urljoin(page, url))
            if target.scheme or target.netloc:
                continue  # another site
            path, fragment = map(urllib.parse.unquote, (target.path, target.fragment))
            if not (out / path).is_file() or fragment not in ids.get(path, {fragment}) | {""}:
                problems.append(f"{page}: {url} (no such file or id)")
    assert not problems, "\n".join(problems)


def test_home_lists_each_lesson_and_links_the_maintainers_pages_hidden_elsewhere(site):
    """The home page lists each lesson with its time and best result (figures/*.json); each
    lesson links Colab, its source notebook and its neighbours. The maintainers' pages are
    linked from the home page only, found by no search, and show README.md's table and
    CONTRIBUTING.md's headings, no more."""
    out, notebooks, _ = site
    home = [h.split("#")[0] for h in links(out / "index.html")]
    text = " ".join(re.sub(r"<[^>]+>", " ", article(out / "index.html")).split())
    times, results = (build_site.read_json(build_site.FIGURES / name)
                      for name in ("notebook_times.json", "results.json"))
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
    pages = {"maintainers.html", "contributing.html"}
    assert pages <= set(home) and not pages & {posixpath.basename(h) for h in hrefs}, \
        "the maintainers' pages are not linked from the home page, or are in the sidebar"
    assert "<table" in article(out / "maintainers.html"), "the README's table is not shown"
    index = json.loads((out / "searchindex.js").read_text().strip()[len("Search.setIndex("):-1])
    hidden = {index["docnames"].index(page[:-len(".html")]) for page in pages}
    found = [w for w, docs in index["terms"].items()
             if hidden & set(docs if isinstance(docs, list) else [docs])]
    assert not found, f"search finds maintainers' pages by {found[:5]}"
    headings = re.findall(r"<h[1-6]", article(out / "contributing.html"))
    written = re.findall(r"^#+\s", (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8"), re.M)
    assert 0 < len(headings) <= len(written), \
        "CONTRIBUTING.md: a line starting with '#' inside a paragraph is a heading: rewrap it"


@pytest.fixture(scope="module")
def browser(site):
    """Chromium through Playwright, and the address of the site served on this machine."""
    if not (chromium := shutil.which("chromium")):
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


# The open page's problems: broken images, sideways scrolling, wrapped code, output boxes too
# tall or cutting a line; then, solutions opened, each figure's (``wanted``: its text in px).
MEASURE = """async ({lines, wanted, desktop}) => {
    const found = [], root = document.documentElement, px = v => parseFloat(v) || 0;
    await Promise.all(Array.from(document.images, i => (i.loading = 'eager',
        i.decode().catch(() => found.push(`broken image ${i.getAttribute('src')}`)))));
    const code = Array.from(document.querySelectorAll('.bd-article pre'));
    const wrapped = code.filter(p => getComputedStyle(p).whiteSpace !== 'pre').length;
    if (root.scrollWidth > root.clientWidth)
        found.push(`${root.scrollWidth - root.clientWidth} px too wide`);
    if (wrapped) found.push(`${wrapped} code blocks wrap`);
    for (const box of document.querySelectorAll('div.cell_output div.output:has(pre)')) {
        if (box.scrollHeight <= box.clientHeight + 1) continue;  // not a scroll box
        const pre = box.querySelector('pre'), s = getComputedStyle(pre), lh = px(s.lineHeight);
        const top = pre.getBoundingClientRect().top - box.getBoundingClientRect().top
            - box.clientTop + px(s.paddingTop) + px(s.borderTopWidth);
        const cut = (box.clientHeight - top) % lh, what = pre.textContent.trim().slice(0, 50);
        if (box.clientHeight > (lines + 2) * lh) found.push(`box too tall: ${what}`);
        else if (Math.min(cut, lh - cut) > 1) found.push(`box cuts a line: ${what}`);
    }
    const small = code.length ? px(getComputedStyle(code[0]).fontSize) : 0;
    document.querySelectorAll('.bd-article details').forEach(d => d.open = true);
    const shown = document.querySelectorAll('.bd-article .cell_output img');
    if (shown.length !== wanted.length) found.push(`${shown.length} figures, not ${wanted.length}`);
    shown.forEach((image, n) => {
        const link = image.closest('a.image-reference'), at = `figure ${n + 1}:`;
        const text = wanted[n] * image.getBoundingClientRect().width / image.naturalWidth;
        if (!image.closest('figure:has(figcaption)')) found.push(`${at} no caption`);
        if (link?.href !== image.src || link.tabIndex < 0) found.push(`${at} no full-size link`);
        if ((link || image).getBoundingClientRect().height > innerHeight)
            found.push(`${at} taller than the screen`);
        if (desktop && text < small) found.push(`${at} text ${text.toFixed(1)} px`);
    });
    return found;
}"""


def test_every_page_works_at_both_sizes(site, browser):
    """Every page at 1280 and 390 px: no console error, failed request, other host, broken
    image, sideways page, wrapped code, or output box too tall or cutting a line; the home
    page's first screen says what, for whom, how long and where to start; search finds lesson 1;
    a lesson's first figure opens full size on Enter (desktop) or a click (phone). Each lesson
    figure has a caption and a link to its full image, fits the screen (or scrolls in its box),
    and at 1280 px its smallest text is at least the small print: display scale x text size in
    the image (14 pt at 70 dpi in a Keras diagram from coursekit's save_model_diagram, else
    matplotlib's 10 pt or the cell's smallest fontsize= at 100 dpi)."""
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
                page.screenshot(path=f"{REPO}/_build/screenshots/{shots[address]}-{size}.png")
            if address == "index.html":  # its first screen: what, for whom, how long, start
                for shown in (".bd-article h1", "text=For whom", "text=How long",
                              f"a[href='{lesson}']:has-text('Start lesson 1')",
                              "text=Open lesson 1 in Colab"):
                    expect(page.locator(shown).first).to_be_in_viewport(ratio=1)
            if query:  # search works offline, and finds lesson 1 by its title
                page.locator(f"#search-results a[href*='{notebooks[0].stem}']").first.wait_for()
            heard += page.evaluate(MEASURE, {"lines": OUTPUT_LINES, "wanted": text_px.get(
                address, []), "desktop": size == "desktop"})
            if address == lesson:  # its first figure opens full size (leaving the page)
                figure = page.locator(".bd-article a.image-reference").first
                image = urllib.parse.urljoin(page.url, figure.get_attribute("href"))
                figure.press("Enter") if size == "desktop" else figure.click()
                page.wait_for_url(image, timeout=5_000)
            problems += [f"{size} {address}: {problem}" for problem in heard]
            heard.clear()
        page.close()
    assert not problems, "\n".join(problems)
