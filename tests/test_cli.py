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

    monkeypatch.setattr(skseg, "KMeansColorSegmenter", Recorder)
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
        r"skseg: warning: n_clusters=5 is larger than the number of distinct "
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

    monkeypatch.setattr(skseg, "KMeansColorSegmenter", Noisy)
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
    assert out.strip().splitlines()[-1] == "chosen K: 4 (distortion, bands)"
    rows = [line.split() for line in out.splitlines()[1:-1]]
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
        (["edges", "--low", "5", "--high", "1"], "low_threshold"),
        (["edges", "--gradient", "l3"], "argument --gradient: invalid choice"),
    ],
)
def test_edges_errors(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(argv, capsys)
    assert code == 2
    assert "skseg: error:" in err and message in err
