"""Export the lessons' trained models for the site's "Try it" page (site/try_it.md).

    python -m tools.export_models [MODEL.keras ...] [--out site/_static/tryit]

The page runs them with TensorFlow.js (pinned; tf.min.mjs, since Jupyter Book adds every *.js
under site/_static to every page). The `tensorflowjs` converter would replace the course's
tensorflow, keras and numpy, so the weights are written here: float32 in base64 inside a script
(a page opened from disk may load scripts, not fetch files), the layers in models.mjs."""

import argparse, base64, hashlib, json, re, subprocess, sys, tarfile, tempfile
from pathlib import Path

import numpy as np

from coursekit import facts
from coursekit.paths import COURSE_ROOT
from coursekit.results import read_results

TFJS_VERSION = "4.22.0"  # npm pack @tensorflow/tfjs@4.22.0, dist/tf.min.js:
TFJS_SHA256 = "300dfae273d20b4046f46a06d735688f03675a807561e9bcb5f664eb2f3d2831"
MODELS = {  # file stem: name on the page, model id in figures/results.json, classes
    "mnist_first_cnn": ("digits", "B3", [str(d) for d in range(10)]),
    "shapes_e1_final": ("shapes", "E1-final", ["circle", "rectangle", "triangle"]),
}
SKIPPED = ("Dropout", "GaussianNoise", "GaussianDropout", "SpatialDropout", "Random")
LAYERS = ("Conv2D", "Dense", "MaxPooling2D", "Flatten", "Activation", "Rescaling")
KEYS = ("filters", "kernel_size", "strides", "padding", "dilation_rate", "activation", "use_bias",
        "units", "pool_size", "scale", "offset")


def vendor_tfjs(out: Path) -> None:
    """Put the pinned dist/tf.min.js in ``out`` as tf.min.mjs, unless it is there already."""
    target = out / "tf.min.mjs"
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == TFJS_SHA256:
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"@tensorflow/tfjs@{TFJS_VERSION}"], cwd=tmp, check=True,
                       stdout=subprocess.DEVNULL)
        with tarfile.open(next(Path(tmp).glob("*.tgz"))) as archive:
            data = archive.extractfile("package/dist/tf.min.js").read()
    if hashlib.sha256(data).hexdigest() != TFJS_SHA256:
        raise SystemExit(f"npm's @tensorflow/tfjs@{TFJS_VERSION}: tf.min.js is not the pinned one")
    target.write_bytes(data)


def flat_layers(layer):
    """The layers of a model, nested models (an augmentation block) opened up."""
    inner = getattr(layer, "layers", None)
    yield from ([layer] if inner is None else (x for sub in inner for x in flat_layers(sub)))


def layer_spec(layer) -> dict | None:
    """A layer as tryit.js builds it with tf.layers (its config in camelCase), or None."""
    kind, config = type(layer).__name__, layer.get_config()
    if kind.startswith(SKIPPED):
        return None  # acts in training only: predict() leaves the image as it is
    if kind not in LAYERS or config.get("data_format", "channels_last") != "channels_last" \
            or config.get("groups", 1) != 1:
        raise SystemExit(f"{layer.name}: the page cannot run this {kind} layer yet")
    camel = {re.sub(r"_(\w)", lambda m: m[1].upper(), k): config[k] for k in KEYS if k in config}
    return {"type": kind[0].lower() + kind[1:], "config": camel,
            "weights": [list(w.shape) for w in layer.get_weights()]}


def export(path: Path, out: Path, results: dict) -> dict:
    import keras
    name, model_id, classes = MODELS[path.stem]
    model = keras.models.load_model(path, compile=False)
    specs, weights = [], []
    for layer in flat_layers(model):
        if (spec := layer_spec(layer)) is not None:
            specs.append(spec)
            weights += [np.asarray(w, "<f4").ravel() for w in layer.get_weights()]
    data = np.concatenate(weights).tobytes()
    script = f'TryIt.weights("{name}", "{base64.b64encode(data).decode()}");\n'
    (out / f"{name}.weights.mjs").write_text(script, encoding="ascii")
    lesson, result = facts.MODELS[model_id].lesson, results.get(model_id, {})
    cells = json.loads((COURSE_ROOT / "notebooks" / lesson).read_text(encoding="utf-8"))["cells"]
    return {"model_id": model_id, "lesson": lesson, "classes": classes,
            "lesson_title": re.search(r"^#\s+(.+)$", "".join(cells[0]["source"]), re.M)[1].strip(),
            "input_shape": list(model.input_shape[1:]), "parameters": model.count_params(),
            **{key: result.get(key) for key in ("test_accuracy", "quickdraw_test_accuracy")},
            "weights_bytes": len(data), "file": f"{name}.weights.mjs", "file_bytes": len(script),
            "layers": specs}


def read_manifest(folder: Path) -> dict:
    return json.loads((folder / "models.mjs").read_text()[len("TryIt.manifest("):-3])


def rebuild(name: str, folder: Path):
    """The Keras model the page runs, rebuilt from an export in ``folder`` (for the tests)."""
    import keras
    entry = read_manifest(folder)["models"][name]
    script = (folder / entry["file"]).read_text()  # TryIt.weights("name", "<base64>");
    data = np.frombuffer(base64.b64decode(script.split('"')[3]), "<f4")
    model = keras.Sequential([keras.Input(entry["input_shape"])] + [
        getattr(keras.layers, spec["type"][0].upper() + spec["type"][1:])(**{
            re.sub(r"([A-Z])", lambda m: "_" + m[1].lower(), k): v
            for k, v in spec["config"].items()}) for spec in entry["layers"]])
    shapes = [shape for spec in entry["layers"] for shape in spec["weights"]]
    parts = np.split(data, np.cumsum([int(np.prod(shape)) for shape in shapes])[:-1])
    model.set_weights([part.reshape(shape) for part, shape in zip(parts, shapes)])
    return model


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path,
                        help="default: " + ", ".join(f"models/{s}.keras" for s in MODELS))
    parser.add_argument("--out", type=Path, default=COURSE_ROOT / "site" / "_static" / "tryit")
    args = parser.parse_args(argv)
    paths = args.models or [path for stem in MODELS
                            if (path := COURSE_ROOT / "models" / f"{stem}.keras").is_file()
                            or print(f"skipped models/{stem}.keras: not trained yet (make run)")]
    if unknown := [str(p) for p in paths if p.stem not in MODELS]:
        parser.error(f"unknown models {unknown}: the page knows {', '.join(MODELS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    vendor_tfjs(args.out)
    # a model not exported now stays in the manifest
    manifest = read_manifest(args.out) if (args.out / "models.mjs").is_file() else {"models": {}}
    results = read_results(COURSE_ROOT / "figures" / "results.json")
    for path in paths:
        entry = manifest["models"][MODELS[path.stem][0]] = export(path, args.out, results)
        print(f"{path} -> {args.out / entry['file']}: {entry['file_bytes'] / 1e6:.2f} MB")
    manifest["library"] = {"name": "@tensorflow/tfjs", "version": TFJS_VERSION,
                           "file": "tf.min.mjs", "bytes": (args.out / "tf.min.mjs").stat().st_size}
    manifest_json = json.dumps(manifest, sort_keys=True)
    (args.out / "models.mjs").write_text(f"TryIt.manifest({manifest_json});\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
