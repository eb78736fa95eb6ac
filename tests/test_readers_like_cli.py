"""Readers of collections match the command line (issue 17, part 4).

``iter_image_batches`` and ``read_images_dask`` read RGB and RGBA files as
one colour collection (alpha not clustered) as ``skseg segment`` does,
accept ``errors="skip"`` (skip, report once at the end) and name the file
in every error.
"""

import re
import warnings

import numpy as np
import pytest

from skseg import KMeansColorSegmenter, cli
from skseg.datasets import (
    iter_image_batches,
    load_sample_image,
    read_images_dask,
    save_image,
)


@pytest.fixture
def mixed(tmp_path):
    """Three RGB crops and one RGBA crop of one photo (the issue's folder)."""
    folder = tmp_path / "mixed"
    photo = load_sample_image("astronaut")
    crops = [photo[64 * i : 64 * i + 48, 100:148] for i in range(4)]
    for i, crop in enumerate(crops[:3]):
        save_image(folder / f"p{i}.png", crop)
    alpha = np.full(crops[3].shape[:2] + (1,), 255, np.uint8)
    save_image(folder / "p3.png", np.dstack([crops[3], alpha]))
    return folder, crops


def test_rgba_folder_feeds_partial_fit_as_the_cli_fits_it(mixed, tmp_path, capsys):
    folder, crops = mixed
    seg = KMeansColorSegmenter(4, random_state=0)
    for batch in iter_image_batches(folder, batch_size=3):
        assert all(image.shape[-1] == 3 for image in batch)
        seg.partial_fit(batch)
    assert seg.cluster_centers_.shape == (4, 3)
    # the CLI on the same folder (opaque alpha: every pixel clustered)
    fit = KMeansColorSegmenter(4, random_state=0).fit(np.stack(crops))
    np.testing.assert_allclose(seg.cluster_centers_, fit.cluster_centers_)
    code = cli.main(["segment", str(folder), "-k", "4", "-o", str(tmp_path / "o")])
    assert code == 0, capsys.readouterr().err


def test_alpha_keep_gives_the_four_channels(mixed):
    folder, _ = mixed
    with pytest.raises(ValueError, match=r"'.*p3\.png' is RGBA, but the first"):
        list(iter_image_batches(folder, alpha="keep"))
    with pytest.raises(ValueError, match="alpha must be 'drop' or 'keep'"):
        next(iter_image_batches(folder, alpha="none"))


def test_read_images_dask_drops_alpha(mixed):
    pytest.importorskip("dask")
    folder, crops = mixed
    X = read_images_dask(folder, chunk_size=2)
    assert X.shape == (4, 48, 48, 3)
    np.testing.assert_array_equal(X.compute(), np.stack(crops))


def _broken_folder(mixed):
    folder, _ = mixed
    (folder / "a_broken.png").write_text("not an image")
    save_image(folder / "q_gray.png", np.zeros((48, 48), np.uint8))
    return folder


def test_errors_skip_skips_and_reports_at_the_end(mixed):
    folder = _broken_folder(mixed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        batches = list(iter_image_batches(folder, batch_size=2, errors="skip"))
    assert [len(b) for b in batches] == [2, 2]
    caught = [w for w in caught if issubclass(w.category, UserWarning)]
    assert len(caught) == 1  # one report, after the last batch
    message = str(caught[0].message)
    assert message.startswith("Skipped 2 of 6 files")
    assert "a_broken.png" in message and "q_gray.png" in message


def test_every_error_names_the_file(mixed):
    folder = _broken_folder(mixed)
    with pytest.raises(ValueError, match=r"a_broken\.png"):
        list(iter_image_batches(folder))
    (folder / "a_broken.png").unlink()
    with pytest.raises(ValueError, match=r"'.*q_gray\.png' is grayscale, but the"):
        list(iter_image_batches(folder))
    with pytest.warns(UserWarning, match=r"Skipped .*q_gray\.png"):
        batches = list(iter_image_batches(folder, errors="warn"))
    assert sum(len(b) for b in batches) == 4


def test_read_images_dask_skip(mixed):
    pytest.importorskip("dask")
    folder = _broken_folder(mixed)
    save_image(folder / "r_small.png", np.zeros((8, 8, 3), np.uint8))
    with pytest.warns(UserWarning, match=r"Skipped 3 of 7 files") as record:
        X = read_images_dask(folder, chunk_size=2, errors="skip")
    (message,) = [str(w.message) for w in record if "Skipped" in str(w.message)]
    for name in ("a_broken.png", "q_gray.png", "r_small.png"):
        assert name in message
    assert X.shape == (4, 48, 48, 3)
    assert X.compute().shape == (4, 48, 48, 3)
    with pytest.raises(ValueError, match=re.escape("a_broken.png")):
        read_images_dask(folder)  # errors='raise': the first file, named
    (folder / "a_broken.png").unlink()
    X = read_images_dask(folder, chunk_size=2)
    with pytest.raises(ValueError, match=r"'.*q_gray\.png' has shape \(48, 48\)"):
        X.compute()
