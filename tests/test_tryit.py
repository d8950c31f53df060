"""The "Try it" page (site/try_it.md) in Chromium: its probabilities equal Keras's, and strokes
drawn with the mouse get the right answer. It runs the committed export, the lessons' models in
models/ exported over it where trained; one not trained here (CI) is rebuilt in Keras from the
committed export. (tests/test_site.py checks the built page's layout at both widths.)"""

import json, re, shutil

import numpy as np
import pytest
from PIL import Image

from coursekit.paths import COURSE_ROOT as REPO
from tools import export_models

COMMITTED = REPO / "site/_static/tryit"
FILES = {name: REPO / "models" / f"{stem}.keras"  # the lessons' saved models
         for stem, (name, *_) in export_models.MODELS.items()}
PAGE = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Try it</title>'
        '<link rel="stylesheet" href="_static/tryit/tryit.css"></head><body>{}</body></html>')
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The page's HTML alone, beside tryit.js, tf.min.mjs and the exported models."""
    chromium = shutil.which("chromium") or pytest.skip("no Chromium")
    root = tmp_path_factory.mktemp("tryit")
    shutil.copytree(COMMITTED, root / "_static/tryit")
    if found := [str(path) for path in FILES.values() if path.is_file()]:  # the lessons' own
        assert export_models.main([*found, "--out", str(root / "_static/tryit")]) == 0  # over it
    html = re.search(r"```\{raw\} html\n(.*?)```", (REPO / "site/try_it.md").read_text(), re.S)[1]
    (root / "try_it.html").write_text(PAGE.format(html))
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:  # opened from disk, as a learner opens the site
        browser = playwright.chromium.launch(executable_path=chromium)
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        tab.problems = []
        tab.route(lambda url: not url.startswith("file:"), lambda r: (
            tab.problems.append(r.request.url), r.abort()))  # nothing from another host
        tab.on("console", lambda m: m.type == "error" and tab.problems.append(m.text))
        tab.on("pageerror", lambda e: tab.problems.append(str(e)))
        tab.goto((root / "try_it.html").as_uri())
        tab.wait_for_function(
            "!document.getElementById('tryit-answer').textContent.startsWith('Load')")
        yield tab
        assert tab.problems == []
        browser.close()


def test_a_model_rebuilt_from_the_committed_export_exports_the_same_weights(tmp_path):
    shutil.copy(COMMITTED / "tf.min.mjs", tmp_path)  # the pinned library, not fetched again
    for stem, (name, *_) in export_models.MODELS.items():
        export_models.rebuild(name, COMMITTED).save(tmp_path / f"{stem}.keras")
    assert export_models.main([*map(str, tmp_path.glob("*.keras")), "--out", str(tmp_path)]) == 0
    for name, entry in export_models.read_manifest(COMMITTED)["models"].items():
        assert export_models.read_manifest(tmp_path)["models"][name]["layers"] == entry["layers"]
        assert (tmp_path / entry["file"]).read_bytes() == (COMMITTED / entry["file"]).read_bytes()


def keras_float32(path):
    """The saved model, computing in float32 whatever its dtype policy (mixed_bfloat16)."""
    import keras
    model = keras.models.load_model(path, compile=False)
    as_float32 = lambda layer: type(layer).from_config({**layer.get_config(), "dtype": "float32"})
    clone = keras.models.clone_model(model, clone_function=as_float32)
    clone.set_weights(model.get_weights())
    return clone


def lesson_steps(name):
    """How the lesson prepares a drawing (a PIL image) for its model."""
    from coursekit.lessons import prepare_drawing  # lesson 03's own (tests/test_lessons.py)
    if name == "digits":
        return lambda image: prepare_drawing(image)[0][..., np.newaxis]
    cells = json.loads((REPO / "notebooks/08_hand_drawn_shapes.ipynb").read_text())["cells"]
    source = next(s for s in ("".join(c["source"]) for c in cells) if s.startswith("def prepare("))
    namespace = {"np": np, "MARGIN": 2, "prepare_drawing": prepare_drawing, "IMAGE_SIZE": (24, 24)}
    exec(source, namespace)
    return namespace["prepare"]


def test_probabilities_equal_keras(page):
    import coursekit
    digit = coursekit.load_data("mnist")[1][0][0]  # a test digit
    shapes = [Image.open(p) for p in sorted(REPO.glob("data/quickdraw_shapes/*/*_100.png"))]
    drawings = {"digits": [Image.open(REPO / "data/my_digit.png"),  # and pad-sized drawings:
                           Image.fromarray(255 - digit).resize((280, 280))],
                "shapes": shapes + [shapes[0].resize((280, 280))]}
    worst = {}
    for name in FILES:
        prepare, inputs, ours = lesson_steps(name), [], []
        for image in drawings[name]:  # the page prepares it, as the lesson does, and predicts
            pixels = np.asarray(image.convert("RGBA")).ravel().tolist()  # as the pad's getImageData
            got = page.evaluate(f"image => TryIt.classify('{name}', image)",
                                {"width": image.width, "height": image.height, "data": pixels})
            inputs.append(prepare(image))
            np.testing.assert_allclose(got["input"], inputs[-1].ravel(), atol=1e-6)
            ours.append(got["probabilities"])
        reference = keras_float32(FILES[name]) if FILES[name].is_file() else \
            export_models.rebuild(name, COMMITTED)  # not trained: the page runs this export
        keras_says = reference.predict(np.array(inputs, "float32"), verbose=0)
        worst[name] = float(np.abs(np.array(ours) - keras_says).max())
    assert max(worst.values()) < 1e-4, worst


STROKES = {"digits": {"1": [(150, 35), (135, 245)], "7": [(60, 55), (215, 55), (115, 245)]},
           "shapes": {"circle": [(140 + 95 * np.cos(a), 140 + 95 * np.sin(a))
                                 for a in np.linspace(0, 2 * np.pi, 40)],
                      "triangle": [(140, 35), (245, 235), (35, 235), (140, 35)]}}


@pytest.mark.parametrize("width", [1280, 390])
def test_drawing_on_the_pad(page, width):
    page.set_viewport_size({"width": width, "height": 900})
    for name in FILES:
        page.check(f"input[value={name}]")
        for expected, stroke in STROKES[name].items():
            page.click("#tryit-clear")
            box = page.locator("#tryit-pad").bounding_box()  # the pad is 280x280 inside
            points = [(box["x"] + x * box["width"] / 280, box["y"] + y * box["height"] / 280)
                      for x, y in stroke]
            page.mouse.move(*points[0])
            page.mouse.down()
            for point in points[1:]:  # real pointer events: down, moves, up
                page.mouse.move(*point, steps=8)
            page.mouse.up()
            page.locator(f"#tryit-answer[data-answer='{expected}']").wait_for(timeout=10_000)
    page.focus("input[name=tryit-model]:checked")  # then the keyboard reaches every control
    reached = [page.keyboard.press("Tab") or page.evaluate("document.activeElement.id")
               for _ in range(3)]
    assert reached == ["tryit-pad", "tryit-clear", "tryit-example"], reached
