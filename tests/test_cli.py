"""Tests for the ``skseg`` command line (skseg.cli, python -m skseg)."""

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import skseg
import skseg.segmentation
from skseg import ColorSpaceTransformer, KMeansColorSegmenter, cli
from skseg.datasets import load_images, load_sample_image, save_image

REPO_ROOT = Path(skseg.__file__).resolve().parent.parent


def n_colours(image):
    return len(np.unique(image.reshape(image.shape[0] * image.shape[1], -1), axis=0))


@pytest.fixture(scope="module")
def small_rgb():
    """Two different 64x64 crops of the astronaut (many distinct colours)."""
    astronaut = load_sample_image("astronaut")
    return astronaut[::8, ::8].copy(), astronaut[40:104, 200:264].copy()


@pytest.fixture
def rgb_files(tmp_path, small_rgb):
    """Two 64x64 RGB PNG files and a 48x80 one."""
    a, b = small_rgb
    paths = [tmp_path / "in" / "a.png", tmp_path / "in" / "b.png"]
    save_image(paths[0], a)
    save_image(paths[1], b)
    ragged = tmp_path / "in" / "wide.png"
    save_image(ragged, load_sample_image("chelsea")[100:148, 150:230])
    return paths + [ragged]


def run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --- successful runs -------------------------------------------------------


def test_default_sample_astronaut(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["segment"], capsys)
    assert code == 0, err
    target = Path("skseg-out") / "astronaut_k3.png"
    assert out.splitlines()[0] == f"wrote {target} (512x512, 3 colours)"
    assert re.search(r"^WCSS per pixel: [0-9.]+$", out, re.MULTILINE)
    (image,) = load_images([tmp_path / target])
    assert image.shape == (512, 512, 3)
    assert n_colours(image) == 3


def test_sample_option_gray(tmp_path, capsys):
    code, out, err = run(
        ["segment", "--sample", "camera", "-k", "4", "-o", tmp_path], capsys
    )
    assert code == 0, err
    (image,) = load_images([tmp_path / "camera_k4.png"])
    assert image.shape == (512, 512)  # still grayscale
    assert n_colours(image) == 4


@pytest.mark.parametrize("name", ["single.png", "single.jpg"])
def test_one_image_to_file(tmp_path, rgb_files, capsys, name):
    out_path = tmp_path / "out" / name
    code, out, err = run(["segment", rgb_files[0], "-k", "4", "-o", out_path], capsys)
    assert code == 0, err
    assert out.splitlines()[0] == f"wrote {out_path} (64x64, 4 colours)"
    (image,) = load_images([out_path])
    assert image.shape == (64, 64, 3)
    if name.endswith(".png"):  # JPEG is lossy
        assert n_colours(image) == 4


def test_batch_shared_palette(tmp_path, rgb_files, small_rgb, capsys):
    code, out, err = run(["segment", *rgb_files[:2], "-k", "5", "-o", tmp_path], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"wrote {tmp_path / 'a_k5.png'} (64x64, ")
    assert lines[1].startswith(f"wrote {tmp_path / 'b_k5.png'} (64x64, ")
    a, b = load_images([tmp_path / "a_k5.png", tmp_path / "b_k5.png"])
    # One palette for the batch: the two images together use exactly K colours.
    both = np.concatenate([a.reshape(-1, 3), b.reshape(-1, 3)])
    assert len(np.unique(both, axis=0)) == 5

    # The printed WCSS is the estimator's, over the whole batch.
    X = np.stack(small_rgb)
    expected = -KMeansColorSegmenter(5, random_state=0).fit(X).score(X)
    wcss = float(lines[2].removeprefix("WCSS per pixel: "))
    assert wcss == pytest.approx(expected, rel=1e-4)


def test_batch_per_image(tmp_path, rgb_files, capsys):
    argv = ["segment", *rgb_files[:2], "-k", "3", "--per-image", "-o", tmp_path]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    for name in ("a_k3.png", "b_k3.png"):
        assert f"wrote {tmp_path / name} (64x64, 3 colours)" in out
        (image,) = load_images([tmp_path / name])
        assert n_colours(image) == 3
    assert "(one palette per image)" in out


def test_ragged_batch(tmp_path, rgb_files, capsys):
    code, out, err = run(
        ["segment", rgb_files[0], rgb_files[2], "-o", tmp_path], capsys
    )
    assert code == 0, err
    assert f"wrote {tmp_path / 'wide_k3.png'} (80x48, " in out
    a, wide = load_images([tmp_path / "a_k3.png", tmp_path / "wide_k3.png"])
    assert a.shape == (64, 64, 3)
    assert wide.shape == (48, 80, 3)


def test_gray_batch(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    camera = load_sample_image("camera")
    paths = [tmp_path / "g1.png", tmp_path / "g2.png"]
    save_image(paths[0], camera[::8, ::8])
    save_image(paths[1], camera[200:264, 200:264])
    code, out, err = run(["segment", *paths, "-k", "2", "--per-image"], capsys)
    assert code == 0, err
    for path in paths:
        (image,) = load_images([Path("skseg-out") / f"{path.stem}_k2.png"])
        assert image.shape == (64, 64)
        assert n_colours(image) == 2


def test_rgba_keeps_alpha(tmp_path, small_rgb, capsys):
    rgba = np.dstack([small_rgb[0], np.full((64, 64), 255, np.uint8)])
    save_image(tmp_path / "rgba.png", rgba)
    code, out, err = run(["segment", tmp_path / "rgba.png", "-o", tmp_path], capsys)
    assert code == 0, err
    (image,) = load_images([tmp_path / "rgba_k3.png"])
    assert image.shape == (64, 64, 4)


@pytest.mark.parametrize("space, encoding", [("hsv", "cossin"), ("lab", None)])
def test_segment_in_another_colour_space(tmp_path, rgb_files, capsys, space, encoding):
    # The tutorial clusters in HSV: the same as the pipeline converter ->
    # segmenter -> converter.inverse_transform, written as RGB.
    argv = ["segment", *rgb_files[:2], "-k", "4", "--space", space, "-o", tmp_path]
    if encoding:
        argv += ["--hue-encoding", encoding]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert re.search(rf"^WCSS per pixel: [0-9.]+ \(in {space} units\)$", out, re.M)
    converter = ColorSpaceTransformer(space, hue_encoding=encoding)
    segmenter = KMeansColorSegmenter(4, random_state=0)
    X = np.stack(load_images(rgb_files[:2]))
    expected = converter.inverse_transform(
        segmenter.fit_transform(converter.fit_transform(X))
    )
    for path, exp in zip(rgb_files[:2], expected):
        save_image(tmp_path / "expected.png", exp)
        (got,) = load_images([tmp_path / f"{path.stem}_k4.png"])
        assert_array_equal(got, load_images([tmp_path / "expected.png"])[0])
        assert got.shape == (64, 64, 3) and n_colours(got) <= 4


def test_random_state_reproducible(tmp_path, rgb_files, capsys):
    for out_dir in ("r1", "r2"):
        code, _, err = run(
            [
                "segment",
                rgb_files[0],
                "-k",
                "6",
                "--random-state",
                "7",
                "-o",
                tmp_path / out_dir,
            ],
            capsys,
        )
        assert code == 0, err
    r1, r2 = load_images([tmp_path / "r1" / "a_k6.png", tmp_path / "r2" / "a_k6.png"])
    np.testing.assert_array_equal(r1, r2)


def test_options_reach_the_estimator(tmp_path, rgb_files, capsys, monkeypatch):
    seen = []

    class Recorder(KMeansColorSegmenter):
        def transform(self, X):
            seen.append(self.get_params())
            return super().transform(X)

    monkeypatch.setattr(skseg.segmentation, "KMeansColorSegmenter", Recorder)
    argv = [
        "segment",
        *rgb_files[:2],
        "-k",
        "4",
        "--per-image",
        "--random-state",
        "3",
        "--n-init",
        "2",
        "-o",
        tmp_path,
    ]
    assert run(argv, capsys)[0] == 0
    assert len(seen) == 2  # one segmenter per image
    params = seen[0]
    assert params["n_clusters"] == 4
    assert params["output"] == "quantized"
    assert params["n_init"] == 2
    # each image's palette is seeded as KMeansColorSegmenter(per_image=True)
    # seeds it from random_state=3
    assert params["random_state"] == np.random.RandomState(3).randint(2**31 - 1)

    seen.clear()
    assert run(["segment", rgb_files[0], rgb_files[2], "-o", tmp_path], capsys)[0] == 0
    assert len(seen) == 2  # one shared palette, then each image segmented
    params = seen[0]
    assert params["n_init"] == KMeansColorSegmenter().n_init  # estimator default
    assert params["per_image"] is False and params["random_state"] == 0


def test_fewer_colours_than_k_warns(tmp_path, capsys):
    two = np.zeros((16, 16, 3), np.uint8)
    two[:, 8:] = (200, 10, 10)
    save_image(tmp_path / "two.png", two)
    code, out, err = run(
        ["segment", tmp_path / "two.png", "-k", "5", "-o", tmp_path], capsys
    )
    assert code == 0
    assert re.search(
        r"skseg: warning: -k 5 is larger than the number of distinct "
        r"colours .*\(2\)",
        err,
    )
    assert "(16x16, 2 colours)" in out
    (image,) = load_images([tmp_path / "two_k5.png"])
    np.testing.assert_array_equal(image, two)


def test_warnings_printed_once_others_reissued(
    tmp_path, rgb_files, capsys, monkeypatch
):
    class Noisy(KMeansColorSegmenter):
        def transform(self, X):
            for _ in range(2):
                warnings.warn("palette looks odd", UserWarning)
            warnings.warn("numerical trouble", RuntimeWarning)
            return super().transform(X)

    monkeypatch.setattr(skseg.segmentation, "KMeansColorSegmenter", Noisy)
    with pytest.warns(RuntimeWarning, match="numerical trouble"):
        code, out, err = run(["segment", rgb_files[0], "-o", tmp_path], capsys)
    assert code == 0
    assert err.count("skseg: warning: palette looks odd") == 1


def test_per_image_warning_reported_once(tmp_path, capsys):
    two = np.zeros((16, 16, 3), np.uint8)
    two[:, 8:] = (200, 10, 10)
    save_image(tmp_path / "two.png", two)
    argv = ["segment", tmp_path / "two.png", "-k", "5", "--per-image", "-o", tmp_path]
    code, out, err = run(argv, capsys)
    assert code == 0
    assert "(16x16, 2 colours)" in out
    assert "WCSS per pixel: 0 (one palette per image)" in out
    lines = err.splitlines()
    assert lines and all(line.startswith("skseg: warning: ") for line in lines)
    assert len(lines) == len(set(lines))


# --- help and usage --------------------------------------------------------


def test_help(capsys):
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    assert "segment" in out

    code, out, _ = run(["segment", "--help"], capsys)
    assert code == 0
    for option in (
        "--n-clusters",
        "--output",
        "--per-image",
        "--random-state",
        "--n-init",
        "--sample",
    ):
        assert option in out


def test_version(capsys):
    code, out, _ = run(["--version"], capsys)
    assert code == 0
    assert out.strip() == f"skseg {skseg.__version__}"


def test_no_command_prints_help(capsys):
    code, out, err = run([], capsys)
    assert code == 2
    assert "segment" in err and out == ""


# --- errors: message on stderr, exit code 2, no traceback -------------------


def check_error(code, out, err, pattern):
    assert code == 2
    assert "Traceback" not in err
    assert re.search(rf"^skseg: error: {pattern}", err, re.MULTILINE), err
    assert "wrote" not in out


def test_missing_file(tmp_path, capsys):
    code, out, err = run(["segment", tmp_path / "nope.png", "-o", tmp_path], capsys)
    check_error(code, out, err, r"No such image file: '.*nope\.png'")


def test_not_an_image(tmp_path, capsys):
    (tmp_path / "fake.png").write_text("not an image")
    code, out, err = run(["segment", tmp_path / "fake.png", "-o", tmp_path], capsys)
    check_error(code, out, err, r"Cannot read '.*fake\.png' as an image")


@pytest.mark.parametrize(
    "k, message",
    [
        ("0", "must be >= 1, got 0"),
        ("-2", "must be >= 1, got -2"),
        ("three", "expected a positive integer, got 'three'"),
        ("2.5", "expected a positive integer, got '2.5'"),
    ],
)
def test_bad_n_clusters(capsys, k, message):
    code, out, err = run(["segment", "-k", k], capsys)
    check_error(code, out, err, rf"argument -k/--n-clusters: {message}")
    assert "usage: skseg segment" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--n-init", "0"], "argument --n-init: must be >= 1, got 0"),
        (["--random-state", "-1"], r"argument --random-state: must be between 0"),
        (["--sample", "lena"], "argument --sample: invalid choice: 'lena'"),
        (["--colour"], "unrecognized arguments: --colour"),
        (["--space", "cmyk"], "argument --space: invalid choice: 'cmyk'"),
        (["--hue-encoding", "cossin"], "--hue-encoding cossin needs --space hsv"),
        (["--sample", "camera", "--space", "hsv"], "--space hsv needs RGB images, but"),
    ],
)
def test_bad_options(capsys, argv, message):
    code, out, err = run(["segment", *argv], capsys)
    check_error(code, out, err, message)


def test_unknown_command(capsys):
    code, out, err = run(["quantize"], capsys)
    check_error(code, out, err, "argument COMMAND: invalid choice: 'quantize'")


def test_sample_with_images(rgb_files, capsys):
    code, out, err = run(["segment", rgb_files[0], "--sample", "china"], capsys)
    check_error(code, out, err, "--sample cannot be combined with IMAGE arguments")


def test_file_output_with_several_images(tmp_path, rgb_files, capsys):
    argv = ["segment", *rgb_files[:2], "-o", tmp_path / "out.png"]
    code, out, err = run(argv, capsys)
    check_error(code, out, err, r"--output '.*out\.png' names a single file, but 2")
    assert not (tmp_path / "out.png").exists()


def test_output_is_an_existing_file(tmp_path, rgb_files, capsys):
    (tmp_path / "results").write_text("")
    code, out, err = run(["segment", rgb_files[0], "-o", tmp_path / "results"], capsys)
    check_error(code, out, err, r"--output '.*results' is an existing file")


def test_same_stem_twice(tmp_path, rgb_files, capsys):
    other = tmp_path / "other" / "a.png"
    save_image(other, load_images([rgb_files[1]])[0])
    code, out, err = run(["segment", rgb_files[0], other, "-o", tmp_path], capsys)
    check_error(code, out, err, r"two inputs would both be written to '.*a_k3\.png'")


def test_mixed_gray_and_colour(tmp_path, rgb_files, capsys):
    save_image(tmp_path / "gray.png", load_sample_image("camera")[::8, ::8])
    argv = ["segment", rgb_files[0], tmp_path / "gray.png", "-o", tmp_path]
    code, out, err = run(argv, capsys)
    check_error(code, out, err, r"all images of one run must have the same channels")
    assert re.search(r"grayscale: \S*gray\.png", err)
    assert re.search(r"3 channels: \S*a\.png", err)


# --- the console entry point ------------------------------------------------


def _subprocess_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p
    )
    return env


def test_python_dash_m_skseg(tmp_path, rgb_files):
    out_dir = tmp_path / "results"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "skseg",
            "segment",
            str(rgb_files[0]),
            "-k",
            "4",
            "-o",
            str(out_dir),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_subprocess_env(),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {out_dir / 'a_k4.png'} (64x64, 4 colours)")
    (image,) = load_images([out_dir / "a_k4.png"])
    assert n_colours(image) == 4


def test_python_dash_m_skseg_error(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "skseg", "segment", "missing.png"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_subprocess_env(),
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "skseg: error: No such image file: 'missing.png'."
    assert result.stdout == ""


# --- skseg elbow -------------------------------------------------------------


def _band_image(k, seed=0):
    rng = np.random.default_rng(seed)
    colours = np.array([[230, 30, 30], [30, 200, 40], [40, 40, 220], [240, 230, 60]])
    bands = np.repeat(colours[:k], 64 // k + 1, axis=0)[:64]
    image = np.repeat(bands[:, None, :], 48, axis=1) + rng.normal(0, 10, (64, 48, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def test_elbow_prints_the_chosen_k_and_the_curve(tmp_path, capsys):
    path = tmp_path / "bands.png"
    save_image(path, _band_image(4))
    code, out, err = run(["elbow", path, "--k-max", "8"], capsys)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[-2] == "chosen K: 4 (distortion; bands)"
    assert lines[-1].startswith("why: Knee of the WCSS curve at K=4")
    rows = [line.split() for line in out.splitlines()[1:-2]]
    assert [int(r[0]) for r in rows] == list(range(1, 9))
    wcss = [float(r[1]) for r in rows]
    assert all(a >= b for a, b in zip(wcss, wcss[1:]))
    assert "<- chosen" in out.splitlines()[4]


def test_elbow_saves_the_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path, plot = tmp_path / "bands.png", tmp_path / "out" / "elbow.png"
    save_image(path, _band_image(3))
    code, out, err = run(["elbow", path, "--plot", plot, "--k-max", "6"], capsys)
    assert code == 0, err
    assert f"wrote {plot}" in out
    assert plot.stat().st_size > 1000


def test_elbow_with_a_separation_metric(tmp_path, capsys):
    path = tmp_path / "bands.png"
    save_image(path, _band_image(3))
    code, out, err = run(
        ["elbow", path, "--metric", "calinski_harabasz", "--k-min", "2"], capsys
    )
    assert code == 0, err
    assert out.splitlines()[0].split()[-1] == "calinski_harabasz"
    assert "chosen K: 3 (calinski_harabasz" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["elbow", "--k-min", "5", "--k-max", "2"],
            "--k-min 5 is larger than --k-max 2",
        ),
        (["elbow", "--k-max", "0"], "--k-max: must be >= 1"),
        (["elbow", "--metric", "bic"], "argument --metric: invalid choice"),
        (["elbow", "missing.png"], "missing.png"),
    ],
)
def test_elbow_errors(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(argv, capsys)
    assert code == 2
    assert "skseg: error:" in err and message in err


# --- skseg edges -------------------------------------------------------------


def test_edges_default_sample(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["edges"], capsys)
    assert code == 0, err
    target = Path("skseg-out") / "astronaut_edges.png"
    assert re.fullmatch(
        rf"wrote {re.escape(str(target))} \(512x512, [0-9.]+% edge pixels\)\n", out
    )
    (edge_map,) = load_images([tmp_path / target])
    assert edge_map.shape == (512, 512)
    assert set(np.unique(edge_map)) == {0, 255}


def test_edges_port_of_the_tutorial_call_matches_cv2(tmp_path, capsys):
    cv2 = pytest.importorskip("cv2")
    from skimage.color import rgb2gray
    from skimage.util import img_as_ubyte

    gray = img_as_ubyte(rgb2gray(load_sample_image("coffee")))
    src, dst = tmp_path / "coffee.png", tmp_path / "coffee_edges.png"
    save_image(src, gray)
    argv = ["edges", src, "--sigma", "0", "--low", "150", "--high", "200"]
    code, out, err = run(argv + ["--gradient", "l1", "-o", dst], capsys)
    assert code == 0, err
    (edge_map,) = load_images([dst])
    np.testing.assert_array_equal(edge_map > 0, cv2.Canny(gray, 150, 200) > 0)


def test_edges_drops_alpha_and_names_files_per_image(tmp_path, rgb_files, capsys):
    for path in rgb_files[:2]:
        opaque = np.full((64, 64), 255, np.uint8)
        save_image(path, np.dstack([load_images([path])[0], opaque]))
    code, out, err = run(["edges", *rgb_files[:2], "-o", tmp_path / "e"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "e").iterdir()) == [
        "a_edges.png",
        "b_edges.png",
    ]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["edges", "--sigma", "-1"], "--sigma: must be >= 0"),
        (["edges", "--low", "x"], "--low: expected a number"),
        (
            ["edges", "--low", "5", "--high", "1"],
            "--low must not be greater than --high",
        ),
        (["edges", "--gradient", "l3"], "argument --gradient: invalid choice"),
    ],
)
def test_edges_errors(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(argv, capsys)
    assert code == 2
    assert "skseg: error:" in err and message in err


# --- folders, globs, streaming (issue 12) -----------------------------------


def _write_bomb(path, width=30000, height=30000):
    """A ~100 kB PNG whose header declares width x height grayscale pixels.

    Only the start of the pixel data is written: a reader that decodes it
    would need 900 MB; skseg must refuse it from the header.
    """
    import struct
    import zlib

    def chunk(kind, data):
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    stream = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    data = b"".join(stream.compress(row) for _ in range(3000)) + stream.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", data)
        + chunk(b"IEND", b"")
    )
    return path


@pytest.fixture
def photo_folder(tmp_path):
    """Five 40x48 crops of two sample photos as PNG files, plus a text file."""
    folder = tmp_path / "photos"
    sources = [load_sample_image("astronaut"), load_sample_image("coffee")]
    images = []
    for i in range(5):
        image = sources[i % 2][30 * i : 30 * i + 40, 20 * i : 20 * i + 48].copy()
        save_image(folder / f"p{i}.png", image)
        images.append(image)
    (folder / "notes.txt").write_text("not an image, not listed")
    return folder, np.stack(images)


def test_folder_shared_palette_equals_in_memory_fit(tmp_path, photo_folder, capsys):
    folder, images = photo_folder
    out_dir = tmp_path / "out"
    code, out, err = run(["segment", folder, "-k", "4", "-o", out_dir], capsys)
    assert code == 0, err
    assert err == ""  # no progress bar: stderr is not a terminal
    seg = KMeansColorSegmenter(4, random_state=0).fit(images)
    expected = seg.transform(images)
    written = load_images([out_dir / f"p{i}_k4.png" for i in range(5)])
    assert_array_equal(np.stack(written), expected)
    wcss = float(out.splitlines()[-1].removeprefix("WCSS per pixel: "))
    assert wcss == pytest.approx(seg.inertia_ / images[..., 0].size, rel=1e-5)
    assert sorted(p.name for p in out_dir.iterdir()) == [
        f"p{i}_k4.png" for i in range(5)
    ]


def test_glob_and_jobs_give_the_same_files(tmp_path, photo_folder, capsys):
    folder, _ = photo_folder
    for jobs in ("1", "3"):
        argv = ["segment", str(folder / "p*.png"), "-k", "3", "--jobs", jobs]
        code, out, err = run(argv + ["-o", tmp_path / f"j{jobs}"], capsys)
        assert code == 0, err
        assert len(out.splitlines()) == 6  # 5 files, in order, then the WCSS
        assert [line.split()[1] for line in out.splitlines()[:5]] == [
            str(tmp_path / f"j{jobs}" / f"p{i}_k3.png") for i in range(5)
        ]
    for i in range(5):
        a, b = load_images(
            [tmp_path / "j1" / f"p{i}_k3.png", tmp_path / "j3" / f"p{i}_k3.png"]
        )
        assert_array_equal(a, b)


def test_per_image_equals_the_estimator_per_image(tmp_path, photo_folder, capsys):
    folder, images = photo_folder
    argv = ["segment", folder, "-k", "3", "--per-image", "--jobs", "2"]
    code, out, err = run(argv + ["-o", tmp_path / "out"], capsys)
    assert code == 0, err
    seg = KMeansColorSegmenter(3, per_image=True, random_state=0).fit(images)
    expected = seg.transform(images)
    written = load_images([tmp_path / "out" / f"p{i}_k3.png" for i in range(5)])
    assert_array_equal(np.stack(written), expected)
    wcss = float(out.splitlines()[-1].split()[3])
    assert wcss == pytest.approx(-seg.score(images), rel=1e-5)


def test_unreadable_files_are_reported_and_skipped(tmp_path, photo_folder, capsys):
    folder, images = photo_folder
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    _write_bomb(folder / "bomb.png")
    for argv in (["segment"], ["segment", "--per-image"], ["edges"]):
        out_dir = tmp_path / "_".join(argv)
        code, out, err = run([*argv, folder, "-o", out_dir], capsys)
        assert code == 1
        assert "Traceback" not in err
        lines = err.splitlines()
        assert len(lines) == 3, err  # one line per bad file, then the summary
        assert re.match(
            r"skseg: error: '.*bomb\.png' is refused without decod", lines[0]
        )
        assert re.match(r"skseg: error: Cannot read '.*broken\.png'", lines[1])
        assert lines[2] == "skseg: 2 of 7 images failed (reported above)"
        assert len(list(out_dir.iterdir())) == 5  # the rest is written
    # the shared palette is the palette of the readable images
    seg = KMeansColorSegmenter(3, random_state=0).fit(images)
    written = load_images([tmp_path / "segment" / "p0_k3.png"])[0]
    assert_array_equal(written, seg.transform(images[:1])[0])


def test_elbow_on_a_folder(photo_folder, capsys):
    folder, images = photo_folder
    code, out, err = run(["elbow", folder, "--k-max", "6"], capsys)
    assert code == 0, err
    from skseg import ElbowKSelector

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        selector = ElbowKSelector(k_values=range(1, 7), random_state=0).fit(images)
    assert f"chosen K: {selector.n_clusters_} (distortion" in out
    assert "; p0, p1" in out


def test_edges_on_a_glob_equals_the_estimator(tmp_path, photo_folder, capsys):
    folder, images = photo_folder
    from skseg import CannyEdgeExtractor

    code, out, err = run(["edges", str(folder / "*.png"), "-o", tmp_path / "e"], capsys)
    assert code == 0, err
    expected = CannyEdgeExtractor().transform(images)
    written = load_images([tmp_path / "e" / f"p{i}_edges.png" for i in range(5)])
    assert_array_equal(np.stack(written) > 0, expected)


def test_progress_bar_only_on_a_terminal_and_not_with_quiet(
    tmp_path, photo_folder, capsys, monkeypatch
):
    folder, _ = photo_folder
    monkeypatch.setattr(cli, "_BAR_DELAY", 0)
    monkeypatch.setattr(cli, "_isatty", lambda stream: True)
    code, out, err = run(["segment", folder, "-o", tmp_path / "a"], capsys)
    assert code == 0
    assert "counting colours" in err and "segmenting" in err and "5/5" in err
    assert "wrote" in out and "wrote" not in err
    code, out, err = run(["segment", folder, "--quiet", "-o", tmp_path / "b"], capsys)
    assert code == 0 and err == ""


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("empty", r"'.*empty' holds no image file"),
        ("nothing*.png", r"No file matches the pattern '.*nothing\*\.png'"),
    ],
)
def test_empty_folder_or_glob(tmp_path, capsys, pattern, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("")
    code, out, err = run(["segment", tmp_path / pattern, "-o", tmp_path], capsys)
    check_error(code, out, err, message)


# --- one input, one output file; bombs; alpha (issue 10, item 6) ------------


def test_bmp_output_file(tmp_path, rgb_files, capsys):
    target = tmp_path / "out.bmp"
    code, out, err = run(["segment", rgb_files[0], "-k", "4", "-o", target], capsys)
    assert code == 0, err
    assert target.is_file() and target.read_bytes()[:2] == b"BM"
    (image,) = load_images([target])
    assert image.shape == (64, 64, 3) and n_colours(image) == 4
    code, out, err = run(["edges", rgb_files[0], "-o", tmp_path / "e.bmp"], capsys)
    assert code == 0 and (tmp_path / "e.bmp").read_bytes()[:2] == b"BM"


@pytest.mark.parametrize("ext", [".gif", ".webp", ".ppm"])
def test_output_in_a_format_skseg_does_not_write(tmp_path, rgb_files, capsys, ext):
    target = tmp_path / f"out{ext}"
    code, out, err = run(["segment", rgb_files[0], "-o", target], capsys)
    check_error(code, out, err, rf"--output '.*out\{ext}': skseg cannot write \{ext}")
    assert len(err.splitlines()) == 1
    assert not target.exists()


def test_output_file_name_that_is_a_directory(tmp_path, rgb_files, capsys):
    (tmp_path / "out.png").mkdir()
    code, out, err = run(["segment", rgb_files[0], "-o", tmp_path / "out.png"], capsys)
    check_error(code, out, err, r"--output '.*out\.png' is an existing directory")


@pytest.mark.parametrize("command", ["segment", "edges", "elbow"])
def test_decompression_bomb_refused_from_the_header(tmp_path, capsys, command):
    bomb = _write_bomb(tmp_path / "bomb.png")
    assert bomb.stat().st_size < 200_000
    code, out, err = run([command, bomb, "-o", tmp_path / "o"][:2], capsys)
    check_error(
        code,
        out,
        err,
        r"'.*bomb\.png' is refused without decoding it: Image size \(900000000 "
        r"pixels\) exceeds limit",
    )
    assert len(err.splitlines()) == 1


def test_rgb_and_rgba_images_share_one_palette(tmp_path, small_rgb, capsys):
    # Alpha is not clustered: an RGB and an RGBA image are one run, with one
    # palette; the RGBA output keeps its alpha, the RGB one has none.
    rgb = small_rgb[0]
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    alpha[:8] = 100
    save_image(tmp_path / "plain.png", rgb)
    save_image(tmp_path / "clear.png", np.dstack([rgb[::-1], alpha]))
    argv = ["segment", tmp_path / "plain.png", tmp_path / "clear.png"]
    code, out, err = run([*argv, "-o", tmp_path / "out"], capsys)
    assert code == 0, err
    plain, clear = load_images([tmp_path / "out" / "plain_k3.png",
                                tmp_path / "out" / "clear_k3.png"])  # fmt: skip
    assert plain.shape[-1] == 3 and clear.shape[-1] == 4
    assert_array_equal(clear[..., 3], alpha)
    colours = {tuple(c) for c in plain.reshape(-1, 3)}
    assert colours == {tuple(c) for c in clear[..., :3].reshape(-1, 3)}
    assert len(colours) == 3


def test_rgba_alpha_is_kept_and_transparent_pixels_left_out(tmp_path, capsys):
    # Opaque: two colours; fully transparent: a third, bright green, that
    # must not pull a palette colour towards it.
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[:, :16] = (200, 30, 30)
    rgb[:, 16:] = (20, 40, 180)
    rgb[:8] = (0, 255, 0)
    alpha = np.full((32, 32), 255, np.uint8)
    alpha[:8] = 0
    alpha[8:12] = 128  # half transparent: clustered like the opaque pixels
    save_image(tmp_path / "rgba.png", np.dstack([rgb, alpha]))
    code, out, err = run(
        ["segment", tmp_path / "rgba.png", "-k", "2", "-o", tmp_path / "o.png"], capsys
    )
    assert code == 0, err
    (image,) = load_images([tmp_path / "o.png"])
    assert image.shape == (32, 32, 4)
    assert_array_equal(image[..., 3], alpha)  # alpha unchanged
    assert_array_equal(image[8:, :, :3], rgb[8:])  # the palette: the 2 colours
    assert "(32x32, 2 colours)" in out


BAD_INPUTS = {
    "missing": lambda d: ["segment", d / "missing.png"],
    "empty file": lambda d: ["segment", d / "empty.png"],
    "text as png": lambda d: ["segment", d / "text.png"],
    "truncated png": lambda d: ["segment", d / "truncated.png"],
    "bomb": lambda d: ["segment", d / "bomb.png"],
    "bomb edges": lambda d: ["edges", d / "bomb.png"],
    "bomb elbow": lambda d: ["elbow", d / "bomb.png"],
    "empty folder": lambda d: ["edges", d / "nothing"],
    "no glob match": lambda d: ["segment", str(d / "*.jpeg")],
    "gif output": lambda d: ["segment", d / "ok.png", "-o", d / "x.gif"],
    "gray with hsv": lambda d: ["segment", d / "gray.png", "--space", "hsv"],
    "bad k": lambda d: ["segment", "-k", "0"],
    "k above colours elbow": lambda d: ["elbow", d / "ok.png", "--k-min", "9"],
    "animated gif": lambda d: ["segment", d / "anim.gif"],
    "bad jobs": lambda d: ["segment", "--jobs", "0"],
}


@pytest.fixture
def bad_files(tmp_path):
    from PIL import Image

    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("hello")
    good = load_sample_image("astronaut")[:32, :32]
    save_image(tmp_path / "ok.png", good)
    (tmp_path / "truncated.png").write_bytes((tmp_path / "ok.png").read_bytes()[:300])
    save_image(tmp_path / "gray.png", good[..., 0])
    _write_bomb(tmp_path / "bomb.png")
    (tmp_path / "nothing").mkdir()
    frames = [Image.fromarray(good), Image.fromarray(good[::-1])]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    return tmp_path


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_never_prints_a_traceback(bad_files, capsys, monkeypatch, case):
    monkeypatch.chdir(bad_files)
    argv = BAD_INPUTS[case](bad_files)
    code, out, err = run(argv, capsys)
    assert "Traceback" not in err
    if case == "k above colours elbow":  # a fallback K, said on stdout, no error
        assert code == 0 and "why: A knee needs at least 3 values of K" in out
        return
    assert code == 2, err
    errors = [line for line in err.splitlines() if line.startswith("skseg: error:")]
    assert len(errors) == 1, err


@pytest.mark.parametrize("case", ["truncated png", "bomb", "gif output", "missing"])
def test_bad_input_in_a_subprocess(bad_files, case):
    argv = [str(a) for a in BAD_INPUTS[case](bad_files)]
    result = subprocess.run(
        [sys.executable, "-m", "skseg", *argv],
        capture_output=True,
        text=True,
        cwd=bad_files,
        env=_subprocess_env(),
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("skseg: error: ")


def test_unexpected_errors_are_one_line_too(capsys, monkeypatch):
    def broken(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "_segment", broken)
    monkeypatch.delenv("SKSEG_TRACEBACK", raising=False)
    code, out, err = run(["segment"], capsys)
    assert code == 1
    assert err == (
        "skseg: error: unexpected RuntimeError: boom (a bug; SKSEG_TRACEBACK=1 "
        "shows where)\n"
    )
