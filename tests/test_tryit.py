"""The "Try it" page (site/try_it.md) in Chromium: its probabilities equal Keras's, and strokes
drawn with the mouse get the right answer. The models are the lessons' saved ones in models/
(or TRYIT_MODELS_DIR), exported into a temporary folder, or else the export committed in
site/_static/tryit (a fresh clone, CI), rebuilt in Keras for the comparison."""

import json, os, re, shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from coursekit.paths import COURSE_ROOT as REPO
from tools import export_models

COMMITTED = REPO / "site/_static/tryit"
MODELS_DIR = Path(os.environ.get("TRYIT_MODELS_DIR", REPO / "models"))
FILES = {"digits": MODELS_DIR / "mnist_first_cnn.keras", "shapes": MODELS_DIR / "shapes_e1_final.keras"}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGE = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Try it</title>'
        '<link rel="stylesheet" href="_static/tryit/tryit.css"></head><body>{}</body></html>')
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The page's HTML alone, beside tryit.js, tf.min.mjs and the exported models."""
    found = [path for path in FILES.values() if path.is_file()]
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not (found or (COMMITTED / "models.mjs").is_file()) or not os.path.exists(chromium):
        pytest.skip("no model trained or exported yet (make run)" if os.path.exists(chromium)
                    else "no Chromium")
    root = tmp_path_factory.mktemp("tryit")
    shutil.copytree(COMMITTED, root / "_static/tryit", ignore=shutil.ignore_patterns(
        *(["*.weights.mjs", "models.mjs"] if found else [])))
    if found:
        assert export_models.main([*map(str, found), "--out", str(root / "_static/tryit")]) == 0
    html = re.search(r"```\{raw\} html\n(.*?)```", (REPO / "site/try_it.md").read_text(), re.S)[1]
    (root / "try_it.html").write_text(PAGE.format(html))
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:  # opened from disk, as a learner opens the site
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        tab.problems = []
        tab.route(lambda url: not url.startswith("file:"), lambda r: (
            tab.problems.append(r.request.url), r.abort()))  # nothing from another host
        tab.on("console", lambda m: m.type == "error" and tab.problems.append(m.text))
        tab.on("pageerror", lambda e: tab.problems.append(str(e)))
        tab.goto((root / "try_it.html").as_uri())
        tab.wait_for_function("!document.getElementById('tryit-answer').textContent.startsWith('Load')")
        tab.models = [n for n in FILES if (root / f"_static/tryit/{n}.weights.mjs").is_file()]
        tab.exported = root / "_static/tryit"
        yield tab
        assert tab.problems == []
        browser.close()


def test_a_model_rebuilt_from_the_committed_export_exports_the_same_weights(tmp_path):
    shutil.copy(COMMITTED / "tf.min.mjs", tmp_path)  # the pinned library, not fetched again
    for stem, (name, *_) in export_models.MODELS.items():
        export_models.rebuild(name, COMMITTED).save(tmp_path / f"{stem}.keras")
    assert export_models.main([*map(str, sorted(tmp_path.glob("*.keras"))), "--out", str(tmp_path)]) == 0
    for name, entry in export_models.read_manifest(COMMITTED)["models"].items():
        assert export_models.read_manifest(tmp_path)["models"][name]["layers"] == entry["layers"]
        assert (tmp_path / entry["file"]).read_bytes() == (COMMITTED / entry["file"]).read_bytes()


def keras_float32(path):
    """The saved model, computing in float32 whatever its dtype policy (mixed_bfloat16)."""
    import keras
    model = keras.models.load_model(path, compile=False)
    clone = keras.models.clone_model(model, clone_function=lambda layer: layer.__class__.from_config(
        {**layer.get_config(), "dtype": "float32"}))
    clone.set_weights(model.get_weights())
    return clone


def lesson_function(lesson, pattern, **namespace):
    """What a lesson's own code cell matching ``pattern`` defines, run in ``namespace``."""
    cells = json.loads((REPO / "notebooks" / lesson).read_text())["cells"]
    exec(next(s for s in ("".join(c["source"]) for c in cells) if re.search(pattern, s, re.M)), namespace)
    return namespace


def lesson_steps(name):
    """How the lesson prepares a drawing (a PIL image) for its model."""
    if name == "shapes":
        from coursekit.lessons import prepare_drawing
        return lesson_function("08_hand_drawn_shapes.ipynb", r"\Adef prepare\(image\)", np=np, MARGIN=2,
                               prepare_drawing=prepare_drawing, IMAGE_SIZE=(24, 24))["prepare"]
    found = lesson_function("03_mnist_first_cnn.ipynb", r"^def prepare_(digit|drawing)\(", np=np, Image=Image)
    prepare = found.get("prepare_drawing") or found["prepare_digit"]
    return lambda image: prepare(image)[0][..., np.newaxis]


def test_probabilities_equal_keras(page):
    import coursekit
    mnist = coursekit.load_data("mnist")[1][0][:5]  # test digits
    shapes = [Image.open(p) for p in sorted(REPO.glob("data/quickdraw_shapes/*/*_100.png"))]  # tested once
    drawings = {"digits": [Image.open(REPO / "data/my_digit.png"),  # and pad-sized drawings:
                           Image.fromarray(255 - mnist[0]).resize((280, 280))],
                "shapes": shapes + [shapes[0].resize((280, 280))]}
    worst = {}
    for name in page.models:
        prepare, inputs, ours = lesson_steps(name), [], []
        for image in drawings[name]:  # the page prepares it, as the lesson does, and predicts
            pixels = np.asarray(image.convert("RGBA")).ravel().tolist()  # as the pad's getImageData
            got = page.evaluate(f"image => TryIt.classify('{name}', image)",
                                {"width": image.width, "height": image.height, "data": pixels})
            inputs.append(prepare(image))
            np.testing.assert_allclose(np.reshape(got["input"], inputs[-1].shape), inputs[-1], atol=1e-6)
            ours.append(got["probabilities"])
        if name == "digits":  # MNIST's own digits need no preparing
            inputs += list(mnist[..., np.newaxis] / 255)
            ours += [page.evaluate("x => TryIt.predict('digits', x)", x.ravel().tolist())
                     for x in inputs[-5:]]
        reference = keras_float32(FILES[name]) if FILES[name].is_file() else \
            export_models.rebuild(name, page.exported)
        keras_says = reference.predict(np.array(inputs, "float32"), verbose=0)
        worst[name] = float(np.abs(np.array(ours) - keras_says).max())
    print("largest difference from Keras:", worst)
    assert max(worst.values()) < 1e-4, worst


STROKES = {"digits": {"1": [(150, 35), (135, 245)], "7": [(60, 55), (215, 55), (115, 245)]},
           "shapes": {"circle": [(140 + 95 * np.cos(a), 140 + 95 * np.sin(a))
                                 for a in np.linspace(0, 2 * np.pi, 40)],
                      "triangle": [(140, 35), (245, 235), (35, 235), (140, 35)]}}


@pytest.mark.parametrize("width", [1280, 390])
def test_drawing_on_the_pad(page, width):
    page.set_viewport_size({"width": width, "height": 900})
    for name in page.models:
        page.check(f"input[value={name}]")
        for expected, stroke in STROKES[name].items():
            page.click("#tryit-clear")
            box = page.locator("#tryit-pad").bounding_box()  # the pad is 280x280 inside
            points = [(box["x"] + x * box["width"] / 280, box["y"] + y * box["height"] / 280)
                      for x, y in stroke]
            for i, point in enumerate(points):  # real pointer events: down, moves, up
                page.mouse.move(*point, steps=8) if i else (page.mouse.move(*point), page.mouse.down())
            page.mouse.up()
            page.wait_for_function(f"document.getElementById('tryit-answer').dataset.answer == '{expected}'",
                                   timeout=10_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing sideways
    page.focus("input[name=tryit-model]:checked")  # then the keyboard reaches every control
    reached = [page.keyboard.press("Tab") or page.evaluate("document.activeElement.id") for _ in range(3)]
    assert reached == ["tryit-pad", "tryit-clear", "tryit-example"], reached
