"""set_output(transform="pandas"|"polars"): 2-D outputs become DataFrames named
by get_feature_names_out, image-shaped outputs pass through unchanged, in
Pipeline and FeatureUnion too (issue 10)."""

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline

from skseg import (
    CannyEdgeExtractor,
    ColorSpaceTransformer,
    ElbowKSelector,
    KMeansColorSegmenter,
)

pd = pytest.importorskip("pandas")

# polars is a test dependency, so its cases run in CI.
CONTAINERS = ["pandas", "polars"]
pl = pytest.importorskip("polars")


def _frame_type(container):
    if container == "pandas":
        return pd.DataFrame
    import polars

    return polars.DataFrame


def _images(n=4, h=12, w=10, seed=0):
    rng = np.random.default_rng(seed)
    palette = np.array([[200, 30, 30], [20, 40, 180], [40, 160, 60], [230, 230, 210]])
    idx = rng.integers(0, len(palette), size=(n, h, w))
    noise = rng.integers(-8, 9, size=(n, h, w, 3))
    return np.clip(palette[idx] + noise, 0, 255).astype(np.uint8)


def _seg(**params):
    return KMeansColorSegmenter(**{"n_clusters": 3, "random_state": 0, **params})


def _readme_pipeline():
    return Pipeline(
        [
            ("hsv", ColorSpaceTransformer("hsv", hue_encoding="cossin")),
            ("seg", _seg(output="histogram")),
        ]
    )


@pytest.mark.parametrize("container", CONTAINERS)
def test_readme_hsv_pipeline_gives_a_named_dataframe(container):
    X = _images()
    expected = _readme_pipeline().fit_transform(X)
    pipe = _readme_pipeline().set_output(transform=container)
    out = pipe.fit_transform(X)
    assert isinstance(out, _frame_type(container))
    assert list(out.columns) == list(pipe.get_feature_names_out())
    assert list(out.columns) == [f"kmeanscolorsegmenter{i}" for i in range(3)]
    assert_array_equal(np.asarray(out), expected)
    assert isinstance(pipe.transform(X), _frame_type(container))


@pytest.mark.parametrize("container", CONTAINERS)
def test_pipeline_ending_in_a_classifier(container):
    X = _images(n=12)
    y = np.arange(12) % 2
    pipe = make_pipeline(
        ColorSpaceTransformer("hsv", hue_encoding="cossin"),
        _seg(output="histogram"),
        LogisticRegression(),
    ).set_output(transform=container)
    assert pipe.fit(X, y).predict(X).shape == (12,)


def _image_cases():
    X = _images(n=3)
    gray = X[..., 0]
    ragged = [X[0], X[1, :7, :5]]
    return [
        ("quantized-4d", _seg(), X),
        ("labels-4d", _seg(output="labels"), X),
        ("distances-4d", _seg(output="distances"), X),
        ("labels-3d", _seg(output="labels"), gray),
        ("quantized-list", _seg(), ragged),
        ("hsv-4d", ColorSpaceTransformer("hsv"), X),
        ("gray-4d", ColorSpaceTransformer("gray"), X),
        ("hsv-list", ColorSpaceTransformer("hsv"), ragged),
        ("canny-4d", CannyEdgeExtractor(), X),
        ("canny-3d", CannyEdgeExtractor(), gray),
        ("canny-list", CannyEdgeExtractor(), ragged),
        ("elbow-4d", ElbowKSelector(k_values=[1, 2, 3, 4], random_state=0), X),
    ]


@pytest.mark.filterwarnings("ignore:No knee:UserWarning")
@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("case", _image_cases(), ids=[c[0] for c in _image_cases()])
def test_image_outputs_pass_through_unchanged(case, container):
    _, est, X = case
    expected_fit_transform = sklearn.base.clone(est).fit_transform(X)
    expected = sklearn.base.clone(est).fit(X).transform(X)
    est = sklearn.base.clone(est).set_output(transform=container)
    got_fit_transform = est.fit_transform(X)
    got = est.fit(X).transform(X)
    for a, b in ((got_fit_transform, expected_fit_transform), (got, expected)):
        assert type(a) is type(b)
        if isinstance(b, list):
            for u, v in zip(a, b):
                assert_array_equal(u, v)
        else:
            assert a.shape == b.shape and a.dtype == b.dtype
            assert_array_equal(a, b)


@pytest.mark.parametrize("container", CONTAINERS)
def test_global_config_leaves_images_alone(container):
    X = _images(n=2)
    with sklearn.config_context(transform_output=container):
        assert _seg().fit_transform(X).shape == X.shape
        out = _seg(output="histogram").fit_transform(X)
    assert isinstance(out, _frame_type(container))


# scikit-learn < 1.9 concatenates a FeatureUnion's polars frames before giving
# them the union's names, and polars refuses the branches' shared names
# (scikit-learn/scikit-learn#32104, fixed by #32853 in 1.9).
_SKLEARN_POLARS_UNION_BUG = tuple(
    int(p) for p in sklearn.__version__.split(".")[:2]
) < (1, 9)


@pytest.mark.parametrize(
    "container",
    [
        "pandas",
        pytest.param(
            "polars",
            marks=pytest.mark.xfail(
                _SKLEARN_POLARS_UNION_BUG,
                reason="scikit-learn < 1.9: FeatureUnion + polars duplicate "
                "column names (scikit-learn#32104)",
                strict=True,
            ),
        ),
    ],
)
def test_feature_union_of_histograms_has_unique_columns(container):
    X = _images(n=5)
    union = FeatureUnion(
        [
            ("rgb", _seg(output="histogram")),
            ("hsv", _readme_pipeline()),
        ]
    )
    expected = sklearn.base.clone(union).fit_transform(X)
    union.set_output(transform=container)
    out = union.fit_transform(X)
    assert isinstance(out, _frame_type(container))
    columns = list(out.columns)
    assert len(set(columns)) == len(columns) == 6
    assert columns == list(union.get_feature_names_out())
    assert columns[0] == "rgb__kmeanscolorsegmenter0"
    assert columns[3] == "hsv__kmeanscolorsegmenter0"
    assert_array_equal(np.asarray(out), expected)


def test_flat_input_keeps_its_index_and_names_pixels():
    X = _images(n=3, h=2, w=2).reshape(3, -1)
    df = pd.DataFrame(X, index=["a", "b", "c"])
    seg = _seg(output="labels", image_shape=(2, 2, 3)).set_output(transform="pandas")
    out = seg.fit_transform(df)
    assert list(out.index) == ["a", "b", "c"]
    assert list(out.columns) == ["label0", "label1", "label2", "label3"]
    edges = CannyEdgeExtractor(image_shape=(2, 2, 3)).set_output(transform="pandas")
    assert list(edges.fit_transform(df).columns) == [
        f"cannyedgeextractor{p}" for p in range(4)
    ]


def test_image_pipeline_names_chain_through_channels():
    # Fitted on images, an image-valued step names the channels of one output
    # pixel; the next step receives them as its input features.
    X = _images(n=2)
    pipe = Pipeline(
        [("hsv", ColorSpaceTransformer("hsv")), ("seg", _seg(output="quantized"))]
    ).fit(X)
    assert list(pipe.get_feature_names_out()) == ["h", "s", "v"]
    pipe.set_params(seg__output="distances")
    assert list(pipe.get_feature_names_out()) == [f"distance{j}" for j in range(3)]


@pytest.mark.parametrize("container", CONTAINERS)
def test_histogram_of_a_ragged_list_is_a_dataframe(container):
    X = _images(n=2)
    ragged = [X[0], X[1, :7, :5], X[0, 2:, 3:]]
    seg = _seg(output="histogram").set_output(transform=container)
    out = seg.fit_transform(ragged)
    assert isinstance(out, _frame_type(container))
    assert out.shape == (3, seg.n_clusters_)
    assert_array_equal(np.asarray(out), _seg(output="histogram").fit_transform(ragged))
