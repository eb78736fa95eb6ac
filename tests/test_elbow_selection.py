"""The elbow says what it did (issue 17, part 3).

On five real photos the knee rule finds no knee and falls back to another
rule; the fallback must be visible in the fitted attributes, in the plot's
title and legend, and in the output of ``skseg elbow``, whose table shows
the quantity the plot shows.
"""

import warnings

import numpy as np
import pytest
from skimage import data

from skseg import ElbowKSelector, cli
from skseg.datasets import save_image

PHOTOS = ["astronaut", "coffee", "chelsea", "rocket", "cat"]


def _fit(image):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        selector = ElbowKSelector(random_state=0).fit(image[None])
    return selector, [str(w.message) for w in caught]


@pytest.fixture(scope="module", params=PHOTOS)
def photo(request):
    return request.param, getattr(data, request.param)()


def test_fallback_is_exposed(photo):
    name, image = photo
    selector, messages = _fit(image)
    assert selector.knee_found_ is False
    assert selector.selection_ == "no_knee"
    assert selector.selection_reason_.startswith("No knee in the WCSS curve")
    assert f"K={selector.n_clusters_}." in selector.selection_reason_
    assert messages == [selector.selection_reason_]  # the warning, same text
    # the fallback rule: the smallest K below 10% of the total sum of squares
    level = selector.fallback_level_
    below = selector.k_values_[selector.inertias_ <= level]
    assert selector.n_clusters_ == below.min()


def test_plot_says_it_fell_back(photo):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    name, image = photo
    selector, _ = _fit(image)
    fig, ax = plt.subplots()
    try:
        selector.plot(ax=ax)
        k = selector.n_clusters_
        assert ax.get_title() == f"Elbow method: no knee, fallback K = {k}"
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert f"K = {k} (fallback)" in labels
        assert "fallback: 10% of total SS" in labels
        level_lines = [
            line
            for line in ax.get_lines()
            if line.get_label() == "fallback: 10% of total SS"
        ]
        assert level_lines[0].get_ydata()[0] == pytest.approx(selector.fallback_level_)
    finally:
        plt.close(fig)


def test_cli_prints_the_fallback(photo, tmp_path, capsys):
    name, image = photo
    path = tmp_path / f"{name}.png"
    save_image(path, image)
    code = cli.main(["elbow", str(path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    selector, _ = _fit(image)
    k = selector.n_clusters_
    assert f"chosen K: {k} (distortion: no knee, fallback rule; {name})" in out
    # the reason, in the command's words (K=1..10 rather than k_values=...)
    reason = cli._flag_words(selector.selection_reason_, "elbow")
    assert f"why: {reason}" in out and "k_values" not in out
    assert "<- chosen (fallback)" in out
    assert "No knee" not in err  # said once, on stdout
    # the table's WCSS column is the plot's quantity (scores_), per pixel too
    rows = [line.split() for line in out.splitlines()[1:11]]
    np.testing.assert_allclose([float(r[1]) for r in rows], selector.scores_, rtol=1e-5)
    n_pixels = image.shape[0] * image.shape[1]
    np.testing.assert_allclose(
        [float(r[2]) for r in rows], selector.scores_ / n_pixels, rtol=1e-5
    )


def test_a_knee_is_said_to_be_one():
    selector, messages = _fit(data.camera())
    assert selector.knee_found_ is True and selector.selection_ == "knee"
    assert selector.selection_reason_.startswith(
        f"Knee of the WCSS curve at K={selector.n_clusters_}"
    )
    assert selector.fallback_level_ is None and messages == []


def test_other_selections():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 255, (1, 16, 16, 3)).astype(np.uint8)
    sel = ElbowKSelector(k_values=[3], random_state=0).fit(X)
    assert sel.selection_ == "single" and not sel.knee_found_
    sel = ElbowKSelector(k_values=[2, 3, 4], metric="silhouette", random_state=0)
    sel.fit(X)
    assert sel.selection_ == "best_score" and not sel.knee_found_
    assert sel.selection_reason_.startswith(f"K={sel.n_clusters_} has the largest")
    with pytest.warns(UserWarning, match="A knee needs at least 3"):
        sel = ElbowKSelector(k_values=[1, 2], random_state=0).fit(X)
    assert sel.selection_ == "too_few" and sel.fallback_level_ > 0
