"""The course site: it builds offline from the stored outputs, and it works in a browser.

The site is built into a temporary folder (never over ``_site/``) from every
``notebooks/[0-9]*.ipynb`` and ``README.md``, and the build must change no file of the
course folder.

The static checks need nothing but Python. The browser tests open every page in
headless Chromium (Debian's ``chromium`` package) over http://127.0.0.1 with every
other host unreachable, measure the layout at 1280 px (one block per cell output, none
scrolling sideways), and save screenshots of the home page and lessons to
``_build/screenshots/`` for a human to look at. Without Chromium it is skipped, with
the reason, except in CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import base64
import functools
import html.parser
import http.server
import json
import os
import posixpath
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest

from coursekit import facts
from helpers import QuietHandler, file_stats
from tools import build_site

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # builds the site and drives a browser
SCREENSHOTS = REPO / "_build" / "screenshots"
EXTERNAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


# --------------------------------------------------------------------------- the build

# Folders a build may not touch but that change for other reasons while tests run.
UNWATCHED = {".git", ".venv", "__pycache__", ".pytest_cache"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The site built into a temporary folder, and what changed in the course folder meanwhile."""
    tmp = tmp_path_factory.mktemp("site")
    notebooks = build_site.lesson_notebooks()
    assert notebooks, "no lesson in notebooks/ to build the site from"
    readme = REPO / "README.md"
    before = file_stats(REPO, UNWATCHED)
    start = time.perf_counter()
    out = build_site.build(tmp / "html", tmp / "work", readme, notebooks)
    print(f"site built in {time.perf_counter() - start:.1f} s from {len(notebooks)} notebook(s)")
    after = file_stats(REPO, UNWATCHED)
    changed = sorted(name for name in before.keys() | after.keys()
                     if before.get(name) != after.get(name))
    return out, notebooks, readme, changed


@pytest.fixture(scope="module")
def site(built):
    out, notebooks, readme, _ = built
    return out, notebooks, readme


class Page(html.parser.HTMLParser):
    """What the checks need from one HTML page: its references, ids and links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, url)
        self.ids: set[str] = set()
        self.anchors: list[tuple[str, list[str]]] = []  # (href, img srcs inside)
        self.styles: list[str] = []
        self._open_a: list[tuple[str, list[str]]] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ("src", "href", "srcset", "poster", "data"):
            if attrs.get(key) is not None:
                self.refs.append((tag, key, attrs[key]))
        if attrs.get("style"):
            self.styles.append(attrs["style"])
        if tag == "a":
            self._open_a.append((attrs.get("href") or "", []))
        if tag == "img" and self._open_a:
            self._open_a[-1][1].append(attrs.get("src") or "")
        if tag == "style":
            self._in_style = True

    def handle_endtag(self, tag):
        if tag == "a" and self._open_a:
            self.anchors.append(self._open_a.pop())
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


@functools.lru_cache(maxsize=None)
def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def html_pages(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*.html") if "_static" not in p.relative_to(out).parts)


def css_urls(css: str) -> list[str]:
    found = re.findall(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", css)
    found += re.findall(r"@import\s+['\"]([^'\"]+)['\"]", css)
    return found


def test_build_writes_only_its_output(built):
    out, notebooks, _, changed = built
    assert changed == [], f"building the site changed files of the course: {changed}"
    assert (out / "index.html").is_file()
    for nb in notebooks:
        assert (out / "notebooks" / f"{nb.stem}.html").is_file(), f"no page for {nb.name}"
    assert (out / "search.html").is_file() and (out / "searchindex.js").is_file()


def test_no_asset_comes_from_another_host(site):
    """Pages render offline: no script, style, font or image from a CDN."""
    out, _, _ = site
    external = []
    for path in html_pages(out):
        page = parse(path)
        for tag, attribute, url in page.refs:
            if tag == "a" or not EXTERNAL.match(url.strip()):
                continue
            if tag == "link" and attribute == "href" and "canonical" in url:
                continue
            external.append(f"{path.relative_to(out)}: <{tag} {attribute}={url}>")
        external += [f"{path.relative_to(out)}: style url({u})"
                     for style in page.styles for u in css_urls(style) if EXTERNAL.match(u)]
    for css in out.rglob("*.css"):
        external += [f"{css.relative_to(out)}: url({u})"
                     for u in css_urls(css.read_text(encoding="utf-8", errors="replace"))
                     if EXTERNAL.match(u)]
    assert not external, "external assets:\n" + "\n".join(external)


def test_every_internal_link_and_image_resolves(site):
    out, _, _ = site
    broken = []
    for path in html_pages(out):
        page = parse(path)
        here = path.relative_to(out).as_posix()
        for tag, attribute, url in page.refs:
            if attribute == "srcset" or EXTERNAL.match(url) or re.match(r"^[a-z]+:", url):
                continue
            target, _, fragment = urllib.parse.unquote(url).partition("#")
            target = target.split("?")[0]
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(here), target)) \
                if target else here
            file = out / resolved
            if file.is_dir():
                file = file / "index.html"
            if not file.is_file():
                broken.append(f"{here}: <{tag} {attribute}={url}> (no {resolved})")
            elif fragment and file.suffix == ".html" and fragment not in parse(file).ids:
                broken.append(f"{here}: <{tag} {attribute}={url}> (no id {fragment!r})")
    assert not broken, "broken internal references:\n" + "\n".join(broken)


def test_lesson_pages_link_colab_source_and_neighbours(site):
    out, notebooks, _ = site
    home = parse(out / "index.html")
    for i, nb in enumerate(notebooks):
        page = parse(out / "notebooks" / f"{nb.stem}.html")
        hrefs = [href for href, _ in page.anchors]
        colab = facts.colab_url(nb.name)
        badges = [imgs for href, imgs in page.anchors if href == colab and imgs]
        assert badges, f"{nb.name}: no Open-in-Colab badge linking to {colab}"
        assert all(not EXTERNAL.match(src) for imgs in badges for src in imgs)
        assert facts.github_url(f"notebooks/{nb.name}") in hrefs, \
            f"{nb.name}: no link to the source notebook"
        if i > 0:
            assert f"{notebooks[i - 1].stem}.html" in hrefs, f"{nb.name}: no 'previous' link"
        if i + 1 < len(notebooks):
            assert f"{notebooks[i + 1].stem}.html" in hrefs, f"{nb.name}: no 'next' link"
        assert f"notebooks/{nb.stem}.html" in [h.split("#")[0] for h, _ in home.anchors], \
            f"the home page does not list {nb.name}"
        images = sum(1 for tag, attribute, _ in page.refs if tag == "img")
        figures = sum("image/png" in output.get("data", {})
                      for cell in nbformat.read(nb, as_version=4).cells
                      if cell.cell_type == "code" for output in cell.outputs)
        assert images >= figures, f"{nb.name}: {figures} figures stored, {images} images shown"


def test_no_math_renderer_is_shipped(site):
    """The course has no formula: no MathJax (it was 24 MB of a 37 MB site), no CDN script."""
    out, _, _ = site
    mathjax = [p.relative_to(out).as_posix() for p in out.rglob("*") if "mathjax" in p.name.lower()]
    assert not mathjax, f"MathJax files in the site: {mathjax[:5]}"
    scripts = [f"{path.relative_to(out)}: {url}" for path in html_pages(out)
               for tag, _, url in parse(path).refs
               if tag == "script" and (EXTERNAL.match(url) or "mathjax" in url.lower())]
    assert not scripts, "scripts from another host or MathJax:\n" + "\n".join(scripts)


def page_text(path: Path) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")).split())


def test_home_page_gives_each_lesson_its_time_and_results(site):
    """Times from figures/notebook_times.json and accuracies from figures/results.json."""
    out, notebooks, _ = site
    text = page_text(out / "index.html")
    times = json.loads((REPO / "figures" / "notebook_times.json").read_text())
    results = json.loads((REPO / "figures" / "results.json").read_text())
    missing = []
    for nb in notebooks:
        if nb.name in times:
            seconds = times[nb.name]
            said = f"{seconds:.0f} s" if seconds < 90 else f"about {seconds / 60:.0f} min"
            if f"A full run takes {said}" not in text:
                missing.append(f"{nb.name}: time {said}")
        for model in (m for m in facts.MODELS.values() if m.lesson == nb.name):
            if model.id in results:
                accuracy = f"{100 * results[model.id]['test_accuracy']:.1f}% test accuracy"
                if not re.search(rf"\b{re.escape(model.id)}\b[^%]*{re.escape(accuracy)}", text):
                    missing.append(f"{nb.name}: {model.id} {accuracy}")
    assert not missing, "the home page does not say:\n" + "\n".join(missing)
    assert "make lab" in text and f"git clone {facts.repository_url()}.git" in text


def test_maintainer_pages_are_one_click_from_home(site):
    out, _, readme = site
    home = [href.split("#")[0] for href, _ in parse(out / "index.html").anchors]
    assert "maintainers.html" in home and "contributing.html" in home
    maintainers = (out / "maintainers.html").read_text(encoding="utf-8")
    table = readme.read_text(encoding="utf-8").split("<!-- results:start -->")[1]
    assert "|" in table.split("<!-- results:end -->")[0], "README.md has no results table"
    assert "<table" in maintainers, "the README's results table is not on its page"
    assert (out / "contributing.html").is_file()
    assert "contributing.html" in [h.split("#")[0] for h, _ in parse(out / "maintainers.html").anchors]


def test_printed_lines_become_one_block():
    line = {"output_type": "stream", "name": "stdout", "text": "Epoch 1/2\n"}
    log = [line, dict(line, text=["391/391 - 3s\n"]), dict(line, name="stderr", text="warn\n"),
           dict(line, text="Epoch 2/2\n"),
           {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBO"}},
           dict(line, text="done\n")]
    before = json.dumps(log)
    merged = build_site.merged_outputs(log)
    assert [(o["output_type"], o.get("name"), o.get("text")) for o in merged] == [
        ("stream", "stdout", "Epoch 1/2\n391/391 - 3s\n"), ("stream", "stderr", "warn\n"),
        ("stream", "stdout", "Epoch 2/2\n"), ("display_data", None, None),
        ("stream", "stdout", "done\n")]
    assert json.dumps(log) == before, "merging changed its input"

    def rich(text):  # one part of Keras' model.summary() as rich prints it in Jupyter
        return {"output_type": "display_data", "metadata": {}, "data": {
            "text/html": f'<pre style="white-space:pre">{text}\n</pre>\n', "text/plain": text}}
    summary = build_site.merged_outputs([rich("Model: E1"), rich("Total params: 9")])
    assert len(summary) == 1 and summary[0]["data"]["text/html"].count("<pre") == 1
    assert summary[0]["data"]["text/plain"] == "Model: E1\nTotal params: 9"


# --------------------------------------------------------------------------- the browser

def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        if shutil.which(name):
            return shutil.which(name)
    return None


class Browser:
    """Headless Chromium driven over the DevTools protocol (one tab)."""

    def __init__(self, binary: str, profile: Path):
        import websocket  # websocket-client, installed with Jupyter

        self.process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
             "--remote-debugging-port=0", "--remote-allow-origins=*",
             f"--user-data-dir={profile}", "--window-size=1280,900",
             # Offline: every host except this machine is unreachable.
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("Chromium did not start")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        tabs = []
        while not tabs:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as response:
                tabs = [t for t in json.load(response) if t["type"] == "page"]
        self.ws = websocket.create_connection(tabs[0]["webSocketDebuggerUrl"], timeout=30,
                                              suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=1280, height=900,
                  deviceScaleFactor=1, mobile=False)

    def call(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self.events.append(message)

    def wait_for(self, event: str, timeout: float = 20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e.get("method") == event for e in self.events):
                return
            self.ws.settimeout(max(0.05, deadline - time.monotonic()))
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(event)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True,
                           returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def open(self, url: str) -> list[str]:
        """Load a page; return its console errors, failed requests and broken images."""
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        broken = self.evaluate("""(async () => {
            const images = Array.from(document.images);
            images.forEach(i => { i.loading = 'eager'; });
            const results = await Promise.all(images.map(i => i.decode().then(
                () => null, () => i.getAttribute('src'))));
            await new Promise(r => setTimeout(r, 300));  // late scripts (search)
            return results.filter(Boolean);
        })()""")
        problems = [f"broken image {src}" for src in broken]
        self.ws.settimeout(0.05)
        try:
            while True:
                self.events.append(json.loads(self.ws.recv()))
        except Exception:
            pass
        self.ws.settimeout(30)
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                problems.append("exception: " + params["exceptionDetails"].get(
                    "exception", {}).get("description", params["exceptionDetails"]["text"]))
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                problems.append("console.error: " + " ".join(
                    str(a.get("value", a.get("description", ""))) for a in params["args"]))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                problems.append(f"{params['entry']['text']} {params['entry'].get('url', '')}")
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                problems.append(f"request failed: {params.get('errorText')}")
            elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
                problems.append(f"HTTP {params['response']['status']} {params['response']['url']}")
        return problems

    def screenshot(self, path: Path, max_height: int = 900) -> None:
        height = min(max_height, int(self.evaluate("document.documentElement.scrollHeight")))
        # A taller window rather than a clip beyond it: sticky sidebars then lay out right.
        self.call("Emulation.setDeviceMetricsOverride", width=1280, height=height,
                  deviceScaleFactor=1, mobile=False)
        time.sleep(0.3)
        data = self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(data["data"]))
        self.call("Emulation.setDeviceMetricsOverride", width=1280, height=900,
                  deviceScaleFactor=1, mobile=False)

    def close(self):
        try:
            self.ws.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture(scope="module")
def browser_and_server(site):
    chromium = find_chromium()
    if chromium is None and os.environ.get("CI"):
        pytest.fail("Chromium not found, and CI must run the browser test (.ci/run installs it)")
    if chromium is None:
        pytest.skip("Chromium not found (looked for " + ", ".join(CHROMIUM_NAMES) + "): "
                    "the browser test of the course site needs it; on Debian/Ubuntu "
                    "`apt-get install chromium` (CI installs it in .ci/run)")
    out, _, _ = site
    handler = functools.partial(QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    profile = Path(tempfile.mkdtemp(prefix="site-chromium-"))
    browser = Browser(chromium, profile)
    try:
        yield browser, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        browser.close()
        server.shutdown()
        server.server_close()
        shutil.rmtree(profile, ignore_errors=True)


def test_every_page_loads_in_chromium_without_errors(site, browser_and_server):
    out, notebooks, _ = site
    browser, base = browser_and_server
    problems = []
    for path in html_pages(out):
        relative = path.relative_to(out).as_posix()
        problems += [f"{relative}: {p}" for p in browser.open(base + relative)]
    assert not problems, "\n".join(problems)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.open(base + "index.html")
    browser.screenshot(SCREENSHOTS / "home.png", max_height=1800)
    lesson = f"notebooks/{notebooks[0].stem}.html"
    browser.open(base + lesson)
    browser.screenshot(SCREENSHOTS / "lesson.png")
    browser.evaluate("(document.querySelector('.cell_output img') || document.body)"
                     ".scrollIntoView({block: 'center'})")
    data = browser.call("Page.captureScreenshot", format="png")
    (SCREENSHOTS / "lesson-figure.png").write_bytes(base64.b64decode(data["data"]))
    log_lesson = f"notebooks/{notebooks[-1].stem}.html"
    browser.open(base + log_lesson)
    browser.evaluate("""(() => {  // the output with the most lines: a training log
        const outputs = Array.from(document.querySelectorAll('.cell_output pre'));
        const longest = outputs.sort((a, b) => b.textContent.split('\\n').length
                                              - a.textContent.split('\\n').length)[0];
        (longest || document.body).scrollIntoView({block: 'center'});
    })()""")
    data = browser.call("Page.captureScreenshot", format="png")
    (SCREENSHOTS / "lesson-log.png").write_bytes(base64.b64decode(data["data"]))
    print(f"screenshots of the home page, {lesson} and {log_lesson}: "
          f"{SCREENSHOTS.relative_to(REPO)}/")


# What scrolls sideways: code and output blocks, and the wrappers of wide tables.
BLOCKS = ".bd-article pre, .bd-article div.output, .bd-article div.highlight, " \
         ".bd-article .pst-scrollable-table-container, .bd-article table"


def test_code_and_outputs_fit_the_column_at_1280_px(site, browser_and_server):
    """No block scrolls sideways, and printed lines arrive as one block per cell output."""
    out, _, _ = site
    browser, base = browser_and_server
    wide, split = [], []
    for path in html_pages(out):
        relative = path.relative_to(out).as_posix()
        if relative in ("genindex.html", "search.html"):
            continue
        browser.open(base + relative)
        found = browser.evaluate("""(() => {
            const wide = Array.from(document.querySelectorAll(%s))
                .filter(e => e.scrollWidth > e.clientWidth + 1)
                .map(e => `${e.scrollWidth}/${e.clientWidth} px: ${e.textContent.trim().slice(0, 60)}`);
            let split = 0;  // neighbouring blocks of one cell's printed text
            document.querySelectorAll('.cell_output').forEach(cell => {
                const kinds = Array.from(cell.children).map(e =>
                    e.matches('.output.stream') ? 'stream' : e.matches('.output.text_html') ? 'html' : e);
                kinds.forEach((kind, i) => { if (i && typeof kind === 'string' && kind === kinds[i - 1]) split++; });
            });
            return {wide, split};
        })()""" % json.dumps(BLOCKS))
        wide += [f"{relative}: {w}" for w in found["wide"]]
        if found["split"]:
            split.append(f"{relative}: {found['split']} output blocks continue the one before")
    assert not wide, f"{len(wide)} blocks scroll sideways at 1280 px:\n" + "\n".join(wide[:20])
    assert not split, "\n".join(split)


def test_search_works_offline(site, browser_and_server):
    _, notebooks, _ = site
    browser, base = browser_and_server
    title, _ = build_site.lesson_heading(notebooks[0])
    word = max(re.findall(r"[A-Za-z]{4,}", title), key=len)
    assert not browser.open(base + "search.html?q=" + urllib.parse.quote(word))
    hits = browser.evaluate("""new Promise(resolve => {
        const start = Date.now();
        (function poll() {
            const hits = Array.from(document.querySelectorAll('#search-results li a'))
                .map(a => a.getAttribute('href'));
            if (hits.length || Date.now() - start > 10000) resolve(hits); else setTimeout(poll, 100);
        })();
    })""")
    assert any(notebooks[0].stem in hit for hit in hits), f"search for {word!r} found {hits}"
