"""Command-line polish (issue 17, part 6), and the inputs behind it.

Unknown flags suggest the close one; a missing folder is called a folder;
errors and warnings name the command's flags, not the estimators'
parameters; polars input keeps its column names as pandas input does;
``plot_edges`` picks an overlay colour that stands out on the image.
"""

import numpy as np
import pytest

from skseg import ColorSpaceTransformer, KMeansColorSegmenter, cli
from skseg.datasets import load_sample_image, save_image


def run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "argv, hint",
    [
        (["segment", "--k", "4"], "did you mean -k/--n-clusters?"),
        (["segment", "--clusters", "4"], "did you mean -k/--n-clusters?"),
        (["segment", "--ouput", "x"], "did you mean -o/--output?"),
        (["edges", "--lo", "3"], None),  # an abbreviation argparse accepts
        (["edges", "--sigmaa", "2"], "did you mean --sigma?"),
        (["edges", "--threshold-low=3"], "did you mean --low?"),
        (["elbow", "--kmax", "5"], "did you mean --k-max?"),
    ],
)
def test_unknown_flag_suggests_the_close_one(argv, hint, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(argv, capsys)
    if hint is None:
        assert "unrecognized" not in err
        return
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith("skseg: error: unrecognized arguments:")
    assert last.endswith(hint)


def test_far_flags_get_no_suggestion(capsys):
    code, _, err = run(["segment", "--zzzzzz"], capsys)
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        "skseg: error: unrecognized arguments: --zzzzzz"
    )


def test_missing_folder_is_called_a_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["segment", "photos/"], capsys)
    assert (code, err) == (2, "skseg: error: no such folder: 'photos/'\n")
    code, _, err = run(["edges", "photos"], capsys)
    assert (code, err) == (2, "skseg: error: no such file or folder: 'photos'\n")
    # a missing file with an image extension is still a missing image file
    code, _, err = run(["edges", "photo.png"], capsys)
    assert code == 2 and "No such image file: 'photo.png'" in err


@pytest.mark.parametrize(
    "argv, expected, python_names",
    [
        (
            ["edges", "--low", "200", "--high", "100"],
            "--low must not be greater than --high; got --low 200.0 and --high 100.0",
            ["low_threshold", "high_threshold", "None means"],
        ),
        (
            ["edges", "--quantiles", "--high", "1.5"],
            "With --quantiles the thresholds are quantiles",
            ["use_quantiles", "high_threshold"],
        ),
    ],
)
def test_errors_name_the_flags(argv, expected, python_names, capsys, tmp_path):
    code, _, err = run([*argv, "-o", tmp_path], capsys)
    assert code == 2 and expected in err
    for name in python_names:
        assert name not in err


def test_warnings_name_the_flags(tmp_path, capsys):
    code, _, err = run(
        ["segment", "--sample", "camera", "-k", "300", "-o", tmp_path], capsys
    )
    assert code == 0
    assert "skseg: warning: -k 300 is larger than the number of distinct " in err
    assert "colours in the images (256)" in err and "n_clusters" not in err
    path = tmp_path / "four.png"
    save_image(path, (np.arange(64).reshape(8, 8) % 4 * 60).astype(np.uint8))
    code, out, err = run(["elbow", path, "--k-min", "2", "--k-max", "9"], capsys)
    assert code == 0
    assert "--k-max is above the number of distinct colours in the images (4)" in err
    assert "k_values" not in err + out


def _frames(lib, X, columns):
    if lib == "pandas":
        pd = pytest.importorskip("pandas")
        return pd.DataFrame(X, columns=columns)
    pl = pytest.importorskip("polars")
    return pl.DataFrame(X, schema=columns)


@pytest.mark.parametrize(
    "make",
    [
        lambda: KMeansColorSegmenter(2, random_state=0, output="quantized"),
        lambda: ColorSpaceTransformer("gray"),
    ],
    ids=["kmeans", "color"],
)
def test_polars_keeps_column_names_like_pandas(make):
    X = np.random.default_rng(0).random((6, 5))
    columns = [f"px{i}" for i in range(5)]
    names = {}
    for lib in ("pandas", "polars"):
        est = make().fit(_frames(lib, X, columns))
        assert list(est.feature_names_in_) == columns
        names[lib] = list(est.get_feature_names_out())
    assert names["polars"] == names["pandas"] == columns
    # and the names are checked at transform, as for pandas
    est = make().fit(_frames("polars", X, columns))
    with pytest.raises(ValueError, match="feature names"):
        est.transform(_frames("polars", X, [c + "_" for c in columns]))


def test_plot_edges_overlay_stands_out():
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from skseg import CannyEdgeExtractor
    from skseg.plotting import plot_edges

    def overlay(image, edges, **kwargs):
        fig, ax = plt.subplots()
        try:
            plot_edges(image, edges, ax=ax, **kwargs)
            return tuple(ax.get_images()[-1].get_array()[edges][0, :3])
        finally:
            plt.close(fig)

    flower = load_sample_image("flower")  # red petals
    edges = CannyEdgeExtractor(sigma=2).fit_transform(flower[None])[0]
    chosen = overlay(flower, edges)
    assert chosen != (1.0, 0.0, 0.0)
    under = flower[edges].mean(axis=0) / 255
    assert np.linalg.norm(under - chosen) > np.linalg.norm(under - (1, 0, 0))
    red = np.zeros((16, 16, 3))
    red[..., 0] = 1.0
    square = np.zeros((16, 16), bool)
    square[4, 4:12] = True
    assert overlay(red, square) == (0.0, 1.0, 1.0)
    assert overlay(red, square, color="red") == (1.0, 0.0, 0.0)  # as asked
