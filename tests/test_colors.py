"""Colors as text: the grammar the CLI checks before loading torch, and as_rgb's tensor of it."""

import subprocess
import sys

import pytest
import torch

from poe_demo.colors import PALETTE, parse_color
from poe_demo.data import as_rgb


@pytest.mark.parametrize(
    "text, rgb",
    [
        ("Red", (1.0, 0.0, 0.0)),
        (" cyan", None),  # names are not stripped: an unknown color
        ("0.2,0.4,0.6", (0.2, 0.4, 0.6)),
        ("#ff8000", (1.0, 128 / 255, 0.0)),
        ("#f80", (1.0, 136 / 255, 0.0)),  # each digit doubled: #ff8800
        ("#FFF", (1.0, 1.0, 1.0)),
    ],
)
def test_names_triples_and_hex_colors_parse(text, rgb):
    if rgb is None:
        with pytest.raises(ValueError, match="unknown color"):
            parse_color(text)
        return
    assert parse_color(text) == pytest.approx(rgb)
    torch.testing.assert_close(as_rgb(text), torch.tensor(rgb, dtype=torch.float32))


@pytest.mark.parametrize(
    "text, message",
    [
        ("purple", "unknown color 'purple'; use one of black, red"),
        ("1,0", "unknown color '1,0'"),
        ("#ff00zz", "unknown color '#ff00zz'"),
        ("2,0,0", r"3 values in \[0, 1\], got \[2.0, 0.0, 0.0\]"),
        ("nan,0,0", r"3 values in \[0, 1\]"),
        ("-0.1,0,0", r"3 values in \[0, 1\]"),
    ],
)
def test_bad_colors_are_named_with_what_is_allowed(text, message):
    with pytest.raises(ValueError, match=message):
        parse_color(text)


def test_a_color_that_is_not_text_is_a_type_error():
    with pytest.raises(TypeError, match="must be a str, got int"):
        parse_color(3)


def test_the_palette_is_the_corners_of_the_rgb_cube():
    corners = {(r, g, b) for r in (0.0, 1.0) for g in (0.0, 1.0) for b in (0.0, 1.0)}
    assert set(PALETTE.values()) == corners and len(PALETTE) == 8


@pytest.mark.parametrize(
    "argv", [["sample", "--color", "purple"], ["sample", "--steps", "0"], ["digits", "--digit", "abc"]]
)
def test_argument_mistakes_are_answered_without_loading_torch(argv):
    # a typo answered in a tenth of a second, not after torch's seconds of import
    code = f"import sys\nfrom poe_demo.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
    code += "print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False", (done.stdout, done.stderr)
    assert done.stderr.startswith("poe-demo: error: argument"), done.stderr
