"""Write lesson 1's two sample images from the datasets themselves.

    COURSE_DATA_DIR=../shared/datasets python tools/make_sample_images.py

data/samples/digit_28x28.png   the first MNIST test digit (a 7), 8-bit grey
data/samples/frog_32x32.png    a CIFAR-10 test image, 8-bit RGB

Both come from images that are byte-exact in every copy of the datasets (CIFAR-10's
first 1,000 test images are exact even in the offline rebuild), so rerunning this
reproduces the committed files bit for bit.
"""

from PIL import Image

import coursekit

OUT = coursekit.paths.COURSE_ROOT / "data" / "samples"
FROG_INDEX = 4  # the first frog (label 6) in CIFAR-10's test set


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    _, (digits, _) = coursekit.load_data("mnist")
    Image.fromarray(digits[0], mode="L").save(OUT / "digit_28x28.png", optimize=True)
    _, (pictures, labels) = coursekit.load_data("cifar10")
    assert labels[FROG_INDEX, 0] == 6, "CIFAR-10 test image 4 should be a frog"
    Image.fromarray(pictures[FROG_INDEX], mode="RGB").save(OUT / "frog_32x32.png", optimize=True)
    print("wrote", ", ".join(sorted(p.name for p in OUT.iterdir())))


if __name__ == "__main__":
    main()
