"""Write lesson 01's two sample images from the datasets themselves.

    COURSE_DATA_DIR=../shared/datasets python tools/make_sample_images.py

data/samples/digit_28x28.png is the first MNIST test digit (a 7), 8-bit grey;
data/samples/frog_32x32.png the first frog in CIFAR-10's test set, 8-bit RGB. Both are
byte-exact in every copy of the datasets (CIFAR-10's first 1,000 test images even in the
offline rebuild), so rerunning this reproduces the committed files bit for bit.
"""

from pathlib import Path

from PIL import Image

import coursekit

FROG_INDEX = 4  # the first frog (label 6) in CIFAR-10's test set


def main(data: Path = coursekit.paths.COURSE_ROOT / "data") -> None:
    out = data / "samples"
    out.mkdir(parents=True, exist_ok=True)
    _, (digits, _) = coursekit.load_data("mnist")
    Image.fromarray(digits[0], mode="L").save(out / "digit_28x28.png", optimize=True)
    _, (pictures, labels) = coursekit.load_data("cifar10")
    assert labels[FROG_INDEX, 0] == 6, "CIFAR-10 test image 4 should be a frog"
    Image.fromarray(pictures[FROG_INDEX], mode="RGB").save(out / "frog_32x32.png", optimize=True)
    print("wrote", ", ".join(sorted(p.name for p in out.iterdir())))


if __name__ == "__main__":
    main()
