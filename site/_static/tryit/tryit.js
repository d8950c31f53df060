/* "Try it" (site/try_it.md): draw a digit or a shape, and the course's own models answer
   in the page, with TensorFlow.js on the CPU (float32, as Keras computes). Jupyter Book
   adds this file to every page: it does nothing where there is no #tryit element.
   tools/export_models.py writes models.mjs (the layers) and NAME.weights.mjs (the weights);
   the test (tests/test_tryit.py) calls TryIt.predict and TryIt.classify. */
(function () {
  "use strict";
  if (window.TryIt) return;
  const base = new URL(".", document.currentScript.src).href;
  // Pen width on the 280x280 pad: lesson 03 crops a digit to its ink and shrinks it to
  // 20 pixels, so a digit drawn across most of the pad gets MNIST's 2-3 pixel strokes;
  // the shapes pad's strokes are about as thick, relative to the drawing, as the real
  // drawings' 1-2 and the course's own 2.
  const PADS = {digits: {stroke: 24, what: "a digit, large, filling the pad",
                         example: [[[70, 60], [210, 60], [120, 235]], [[110, 150], [185, 150]]]},
                shapes: {stroke: 20, what: "a circle, a rectangle or a triangle",
                         example: [[[140, 40], [245, 235], [35, 235], [140, 40]]]}};
  const loaded = {}, weights = {}, models = {};
  let manifest = null, started = null;

  function script(file) {
    return loaded[file] || (loaded[file] = new Promise((resolve, reject) => {
      const tag = document.createElement("script");
      tag.src = base + file;
      tag.onload = resolve;
      tag.onerror = () => reject(new Error(file + " is missing: the models are exported by " +
                                           "make run (python -m tools.export_models)"));
      document.head.appendChild(tag);
    }));
  }

  function build(spec, text) {  // the exported layers, with their float32 weights
    const floats = new Float32Array(Uint8Array.from(atob(text), c => c.charCodeAt(0)).buffer);
    const model = tf.sequential();
    let at = 0;
    spec.layers.forEach((layer, i) => {
      const config = Object.assign({}, layer.config, i ? {} : {inputShape: spec.input_shape});
      if (layer.weights.length) config.weights = layer.weights.map(shape => {
        const size = shape.reduce((a, b) => a * b, 1);
        return tf.tensor(floats.subarray(at, at += size), shape);
      });
      model.add(tf.layers[layer.type.replace("2D", "2d")](config));
    });
    return model;
  }

  // Pillow's resize (Resample.c), 8 bits per channel: fixed-point filter weights, a
  // horizontal pass rounded to whole numbers, then a vertical pass.
  const sinc = x => (x === 0 ? 1 : Math.sin(x * Math.PI) / (x * Math.PI));
  const FILTERS = {bilinear: [1, x => Math.max(0, 1 - Math.abs(x))],
                   lanczos: [3, x => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0)]};
  const clip8 = s => (s >= 1073741824 ? 255 : s <= 0 ? 0 : Math.floor(s / 4194304));

  function coefficients(inSize, outSize, [support, filter]) {
    const scale = inSize / outSize, filterScale = Math.max(scale, 1), ss = 1 / filterScale;
    support *= filterScale;
    return Array.from({length: outSize}, (_, i) => {
      const center = (i + 0.5) * scale, min = Math.max(Math.trunc(center - support + 0.5), 0);
      const max = Math.min(Math.trunc(center + support + 0.5), inSize), w = [];
      for (let x = min; x < max; x++) w.push(filter((x - center + 0.5) * ss));
      const sum = w.reduce((a, b) => a + b, 0);
      return [min, w.map(k => (sum ? k / sum : k) * 4194304).map(k => Math.trunc(k + (k < 0 ? -0.5 : 0.5)))];
    });
  }

  function resize(plane, w, h, W, H, filter) {  // one channel, row by row
    let out = plane;
    if (W !== w) {
      const c = coefficients(w, W, FILTERS[filter]), next = new Uint8Array(W * h);
      for (let y = 0; y < h; y++) for (let x = 0; x < W; x++) {
        const [min, k] = c[x];
        let s = 2097152;
        for (let i = 0; i < k.length; i++) s += out[y * w + min + i] * k[i];
        next[y * W + x] = clip8(s);
      }
      out = next;
    }
    if (H !== h) {
      const c = coefficients(h, H, FILTERS[filter]), next = new Uint8Array(W * H);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
        const [min, k] = c[y];
        let s = 2097152;
        for (let i = 0; i < k.length; i++) s += out[(min + i) * W + x] * k[i];
        next[y * W + x] = clip8(s);
      }
      out = next;
    }
    return out;
  }

  // Lesson 03's prepare_drawing (coursekit.lessons.prepare_drawing), for a model's input of
  // size x size with a margin, on an opaque RGBA image {width, height, data}.
  function prepareDrawing({width: W, height: H, data}, size = 28, margin = 4) {
    const grey = new Uint8Array(W * H), border = [];  // 1. Pillow's convert("L")
    for (let i = 0; i < W * H; i++)
      grey[i] = (data[4 * i] * 19595 + data[4 * i + 1] * 38470 + data[4 * i + 2] * 7471 + 0x8000) >> 16;
    for (let x = 0; x < W; x++) border.push(grey[x], grey[(H - 1) * W + x]);
    for (let y = 0; y < H; y++) border.push(grey[y * W], grey[y * W + W - 1]);
    border.sort((a, b) => a - b);
    const n = border.length, median = (border[(n - 1) >> 1] + border[n >> 1]) / 2;
    const flip = median > 127, page = flip ? 255 - median : median;  // a light page: flip
    const ink = new Float32Array(W * H);  // 2. white on black, the page 0
    let max = 0;
    for (let i = 0; i < W * H; i++) max = Math.max(max, ink[i] = Math.max((flip ? 255 - grey[i] : grey[i]) - page, 0));
    if (max < 40) return null;  // no ink
    const threshold = Math.fround(Math.fround(0.2) * max);
    let top = H, bottom = -1, left = W, right = -1;  // 3. crop to the ink, pad to a square
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (ink[y * W + x] > threshold) {
      top = Math.min(top, y); bottom = Math.max(bottom, y); left = Math.min(left, x); right = Math.max(right, x);
    }
    const h = bottom - top + 1, w = right - left + 1, side = Math.max(h, w);
    const oy = (side - h) >> 1, ox = (side - w) >> 1, square = new Uint8Array(side * side);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++)
      square[(oy + y) * side + ox + x] = Math.trunc(Math.fround(Math.fround(255 * ink[(top + y) * W + left + x]) / max));
    const inner = size - 2 * margin, small = resize(square, side, side, inner, inner, "lanczos");
    const most = small.reduce((a, b) => Math.max(a, b), 0), input = new Float32Array(size * size);
    for (let y = 0; y < inner; y++) for (let x = 0; x < inner; x++)  // 4. in the frame, 5. 0-1
      input[(y + margin) * size + x + margin] = Math.fround(small[y * inner + x] / most);
    return input;
  }

  // Lesson 08's prepare() for E1-final: prepare_drawing(image, 24, margin 2), then back to
  // black strokes on white, RGB values 0-255 (the model rescales them itself).
  function prepareShape(image, [S, T]) {
    const drawing = prepareDrawing(image, S, 2);
    if (!drawing) return null;
    const input = new Float32Array(S * T * 3);
    drawing.forEach((v, i) => { input[3 * i] = input[3 * i + 1] = input[3 * i + 2] = Math.fround(255 * Math.fround(1 - v)); });
    return input;
  }

  const TryIt = window.TryIt = {
    manifest(m) { manifest = m; },
    weights(name, text) { weights[name] = text; },
    start() {
      return started || (started = script("tf.min.mjs").then(() => tf.setBackend("cpu"))
        .then(() => script("models.mjs")).then(() => manifest));
    },
    model(name) {
      return models[name] || (models[name] = TryIt.start().then(() => {
        if (!manifest.models[name]) throw new Error("the " + name + " model is not exported yet (make run)");
        return script(manifest.models[name].file);
      }).then(() => build(manifest.models[name], weights[name])));
    },
    async predict(name, input) {  // input: the model's input, flat; out: its probabilities
      const model = await TryIt.model(name), shape = manifest.models[name].input_shape;
      return tf.tidy(() => Array.from(model.predict(tf.tensor(input, [1].concat(shape))).dataSync()));
    },
    prepare(name, image) {  // a drawing (RGBA, opaque) as its lesson prepares it, or null
      return name === "digits" ? prepareDrawing(image) : prepareShape(image, manifest.models[name].input_shape);
    },
    async classify(name, image) {
      await TryIt.model(name);
      const input = TryIt.prepare(name, image);
      return {input: input && Array.from(input), probabilities: input && await TryIt.predict(name, input)};
    },
  };

  function page(root) {
    const $ = id => document.getElementById(id), pad = $("tryit-pad"), ctx = pad.getContext("2d", {willReadFrequently: true});
    const seen = $("tryit-input"), answer = $("tryit-answer"), bars = $("tryit-bars");
    let name = "digits", last = null, busy = false, again = false;
    const clear = () => {
      ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, pad.width, pad.height);
      seen.getContext("2d").clearRect(0, 0, seen.width, seen.height);
      bars.querySelectorAll(".tryit-fill").forEach(f => { f.style.width = "0"; });
      bars.querySelectorAll(".tryit-value").forEach(v => { v.textContent = "-"; });
      answer.textContent = "Draw " + PADS[name].what + ".";
      delete answer.dataset.answer;
    };
    const line = (a, b) => {
      ctx.strokeStyle = "#000"; ctx.lineWidth = PADS[name].stroke; ctx.lineCap = ctx.lineJoin = "round";
      ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
      if (a[0] === b[0] && a[1] === b[1]) {  // a tap: a dot
        ctx.fillStyle = "#000"; ctx.beginPath(); ctx.arc(a[0], a[1], ctx.lineWidth / 2, 0, 2 * Math.PI); ctx.fill();
      }
    };
    const show = (input, shape) => {  // what the model receives, one canvas pixel each
      const [h, w, c] = shape, image = new ImageData(w, h);
      for (let i = 0; i < w * h; i++) for (let k = 0; k < 3; k++)
        image.data[4 * i + k] = c === 1 ? Math.round(255 * input[i]) : input[3 * i + k];
      image.data.forEach((_, i) => { if (i % 4 === 3) image.data[i] = 255; });
      seen.width = w; seen.height = h; seen.getContext("2d").putImageData(image, 0, 0);
    };
    async function update() {
      if (busy) { again = true; return; }
      busy = true;
      try {
        const spec = (await TryIt.model(name), manifest.models[name]);
        const input = TryIt.prepare(name, ctx.getImageData(0, 0, pad.width, pad.height));
        if (input) {
          const p = await TryIt.predict(name, input), best = p.indexOf(Math.max(...p));
          show(input, spec.input_shape);
          bars.querySelectorAll("li").forEach((li, k) => {
            li.querySelector(".tryit-fill").style.width = (100 * p[k]).toFixed(1) + "%";
            li.querySelector(".tryit-value").textContent = (100 * p[k]).toFixed(1) + "%";
            li.classList.toggle("tryit-best", k === best);
          });
          answer.dataset.answer = spec.classes[best];
          answer.textContent = "The model says: " + spec.classes[best] + " (" + (100 * p[best]).toFixed(1) + "%)";
        }
      } catch (error) {
        answer.textContent = "Cannot run the model: " + error.message;
      }
      busy = false;
      if (again) { again = false; update(); }
    }
    async function choose(next) {
      name = next;
      $("tryit-input-size").textContent = next === "digits" ? "28×28" : "24×24";
      answer.textContent = "Loading the " + next + " model…";
      try {
        await TryIt.model(next);
        const spec = manifest.models[next];
        bars.innerHTML = spec.classes.map(c => '<li><span class="tryit-label">' + c +
          '</span><span class="tryit-bar"><span class="tryit-fill"></span></span><span class="tryit-value">-</span></li>').join("");
        clear();
      } catch (error) {
        answer.textContent = "Cannot load the model: " + error.message;
      }
    }
    const at = e => { const r = pad.getBoundingClientRect();
      return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height]; };
    pad.addEventListener("pointerdown", e => {
      pad.setPointerCapture(e.pointerId); last = at(e); line(last, last); update(); e.preventDefault();
    });
    pad.addEventListener("pointermove", e => {
      if (!last) return;
      const points = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
      (points.length ? points : [e]).forEach(p => { const q = at(p); line(last, q); last = q; });
      update();
    });
    ["pointerup", "pointercancel"].forEach(t => pad.addEventListener(t, () => { if (last) update(); last = null; }));
    $("tryit-clear").addEventListener("click", clear);
    $("tryit-example").addEventListener("click", () => {
      clear(); PADS[name].example.forEach(s => s.slice(1).forEach((p, i) => line(s[i], p))); update();
    });
    root.querySelectorAll('input[name="tryit-model"]').forEach(r => r.addEventListener("change", () => choose(r.value)));
    TryIt.start().then(() => {
      const mb = b => (b / 1e6).toFixed(1) + " MB", pct = x => (100 * x).toFixed(1) + "%";
      $("tryit-about").innerHTML = Object.entries(manifest.models).map(([key, m]) =>
        "<li><strong>" + key[0].toUpperCase() + key.slice(1) + "</strong>: model " + m.model_id + ", trained in lesson " +
        '<a href="notebooks/' + m.lesson.replace(".ipynb", ".html") + '">' + m.lesson.slice(0, 2) + ", " + m.lesson_title +
        "</a>; " + (m.test_accuracy == null ? "not trained in full yet" : pct(m.test_accuracy) + " test accuracy" +
        (m.quickdraw_test_accuracy == null ? "" : " on its own test drawings, " + pct(m.quickdraw_test_accuracy) +
        " on real drawings by other people")) + "; " + m.parameters.toLocaleString("en") + " parameters, " +
        mb(m.file_bytes) + " to download.</li>").join("") + "<li>Run by TensorFlow.js " + manifest.library.version +
        " (" + mb(manifest.library.bytes) + "), in this page: nothing you draw leaves your computer.</li>";
    }).catch(error => { answer.textContent = error.message; });
    choose((root.querySelector('input[name="tryit-model"]:checked') || {value: "digits"}).value);
  }

  const init = () => { const root = document.getElementById("tryit"); if (root) page(root); };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
