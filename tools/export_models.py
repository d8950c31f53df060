"""Export the lessons' trained models for the site's "Try it" page (site/try_it.md).

    python -m tools.export_models [MODEL.keras ...] [--out site/_static/tryit] [--tfjs TGZ]

Default models: models/mnist_first_cnn.keras (B3, lesson 03) and models/shapes_e1_final.keras
(E1-final, lesson 08); a default file that is missing is skipped with a note. The page runs
them with TensorFlow.js (npm @tensorflow/tfjs, pinned below), vendored as tf.min.mjs: its
dist/tf.min.js renamed, because Jupyter Book adds every *.js under site/_static to every
page. The `tensorflowjs` converter would replace the course's tensorflow, keras and numpy,
so the weights are written here: float32 little-endian, base64 in a script (a page opened
from disk, file://, may load scripts but not fetch files), with the inference layers
described in models.mjs; tryit.js rebuilds them with tf.layers, leaving out training-only
layers (random augmentation, dropout).
"""

from __future__ import annotations

import argparse, base64, hashlib, json, re, subprocess, sys, tarfile, tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TFJS_VERSION = "4.22.0"  # npm pack @tensorflow/tfjs@4.22.0, dist/tf.min.js:
TFJS_SHA256 = "300dfae273d20b4046f46a06d735688f03675a807561e9bcb5f664eb2f3d2831"
MODELS = {  # file stem: name on the page, model id in figures/results.json, classes
    "mnist_first_cnn": ("digits", "B3", [str(d) for d in range(10)]),
    "shapes_e1_final": ("shapes", "E1-final", ["circle", "rectangle", "triangle"]),
}
SKIPPED = ("Dropout", "GaussianNoise", "GaussianDropout", "SpatialDropout", "Random")


def vendor_tfjs(out: Path, tgz: Path | None) -> None:
    """Put the pinned dist/tf.min.js in ``out`` as tf.min.mjs (from ``tgz`` or npm)."""
    target = out / "tf.min.mjs"
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == TFJS_SHA256:
        return
    with tempfile.TemporaryDirectory() as tmp:
        if tgz is None:
            subprocess.run(["npm", "pack", f"@tensorflow/tfjs@{TFJS_VERSION}"], cwd=tmp,
                           check=True, stdout=subprocess.DEVNULL)
            tgz = next(Path(tmp).glob("*.tgz"))
        with tarfile.open(tgz) as archive:
            data = archive.extractfile("package/dist/tf.min.js").read()
    if hashlib.sha256(data).hexdigest() != TFJS_SHA256:
        raise SystemExit(f"{tgz}: dist/tf.min.js is not @tensorflow/tfjs {TFJS_VERSION}'s")
    target.write_bytes(data)


def flat_layers(layer):
    """The layers of a model, nested models (an augmentation block) opened up."""
    inner = getattr(layer, "layers", None)
    yield from ([layer] if inner is None else (x for sub in inner for x in flat_layers(sub)))


def layer_spec(layer) -> dict | None:
    kind, c = type(layer).__name__, layer.get_config()
    if kind.startswith(SKIPPED):
        return None  # acts in training only: predict() leaves the image as it is
    if c.get("data_format", "channels_last") != "channels_last":
        raise SystemExit(f"{layer.name}: only channels_last is supported")
    spec = {"Conv2D": lambda: dict(filters=c["filters"], kernelSize=c["kernel_size"],
                                   strides=c["strides"], padding=c["padding"],
                                   dilationRate=c["dilation_rate"],
                                   activation=c["activation"], useBias=c["use_bias"]),
            "Dense": lambda: dict(units=c["units"], activation=c["activation"],
                                  useBias=c["use_bias"]),
            "MaxPooling2D": lambda: dict(poolSize=c["pool_size"], strides=c["strides"],
                                         padding=c["padding"]),
            "Flatten": dict, "Activation": lambda: dict(activation=c["activation"]),
            "Rescaling": lambda: dict(scale=c["scale"], offset=c["offset"])}.get(kind)
    if spec is None:
        raise SystemExit(f"{layer.name}: {kind} layers are not supported by the page yet")
    return {"type": kind[0].lower() + kind[1:], "config": spec(),
            "weights": [list(w.shape) for w in layer.get_weights()]}


def export(path: Path, out: Path, results: dict) -> dict:
    import keras
    import numpy as np
    if path.stem not in MODELS:
        raise SystemExit(f"{path}: unknown model, expected one of {', '.join(MODELS)}")
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
    from coursekit import facts
    lesson = facts.MODELS[model_id].lesson
    cells = json.loads((REPO / "notebooks" / lesson).read_text(encoding="utf-8"))["cells"]
    title = re.search(r"^#\s+(.+)$", "".join(cells[0]["source"]), re.M)[1].strip()
    result = results.get(model_id, {})
    return {"model_id": model_id, "lesson": lesson, "lesson_title": title,
            "classes": classes, "input_shape": list(model.input_shape[1:]),
            "test_accuracy": result.get("test_accuracy"),
            "quickdraw_test_accuracy": result.get("quickdraw_test_accuracy"),
            "parameters": model.count_params(), "weights_bytes": len(data),
            "file": f"{name}.weights.mjs", "file_bytes": len(script), "layers": specs}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path,
                        help="default: " + ", ".join(f"models/{s}.keras" for s in MODELS))
    parser.add_argument("--out", type=Path, default=REPO / "site" / "_static" / "tryit")
    parser.add_argument("--tfjs", type=Path, help="the npm tarball of @tensorflow/tfjs "
                        f"{TFJS_VERSION} (default: npm pack, if tf.min.mjs is not there)")
    args = parser.parse_args(argv)
    paths = args.models or [p for s in MODELS if (p := REPO / "models" / f"{s}.keras").is_file()
                            or print(f"skipped {p.relative_to(REPO)}: not trained yet (make run)")]
    args.out.mkdir(parents=True, exist_ok=True)
    vendor_tfjs(args.out, args.tfjs)
    manifest_file = args.out / "models.mjs"
    old = manifest_file.read_text().partition("(")[2].rpartition(")")[0] \
        if manifest_file.is_file() else "{}"
    manifest = json.loads(old) or {"models": {}}
    results_file = REPO / "figures" / "results.json"
    results = json.loads(results_file.read_text()) if results_file.is_file() else {}
    for path in paths:
        name = MODELS.get(path.stem, [path.stem])[0]
        manifest["models"][name] = export(path, args.out, results)
        print(f"{path} -> {args.out / (name + '.weights.mjs')}: "
              f"{manifest['models'][name]['file_bytes'] / 1e6:.2f} MB")
    manifest["library"] = {"name": "@tensorflow/tfjs", "version": TFJS_VERSION,
                           "file": "tf.min.mjs", "bytes": (args.out / "tf.min.mjs").stat().st_size}
    manifest_file.write_text(f"TryIt.manifest({json.dumps(manifest, sort_keys=True)});\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
