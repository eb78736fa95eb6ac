"""`skseg warmup`: kernels compiled ahead of time are loaded, not compiled."""

import json
import os
import subprocess
import sys

import pytest

from skseg.cli import main

# A fresh process: the first Canny calls on a boolean batch, reporting how
# many numba compilations they triggered and how many kernels came from the
# on-disk cache.
_CHILD = """
import json
import numpy as np
from numba.core import event
from skseg import CannyEdgeExtractor
from skseg import _canny

compiled = []

class Listener(event.Listener):
    def on_start(self, ev):
        compiled.append(str(ev.data["dispatcher"]))

    def on_end(self, ev):
        pass

X = np.random.RandomState(0).rand(1, 40, 50) > 0.5
with event.install_listener("numba:compile", Listener()):
    CannyEdgeExtractor().fit_transform(X)
    CannyEdgeExtractor(sigma=0, gradient="l1").fit_transform(X)
hits = sum(d.stats.cache_hits.get(s, 0) for d in (_canny.canny_band,)
           for s in d.stats.cache_hits)
print(json.dumps({"compiled": len(compiled), "cache_hits": hits}))
"""


def _run(args, cache_dir):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, check=False
    )


def _first_calls(cache_dir):
    proc = _run(["-c", _CHILD], cache_dir)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_warmup_fills_the_cache_a_fresh_process_loads(tmp_path):
    cold = _first_calls(tmp_path / "empty")
    # the check can fail: without warm-up the same calls compile kernels
    assert cold["compiled"] > 0
    assert cold["cache_hits"] == 0

    cache = tmp_path / "warm"
    proc = _run(["-m", "skseg", "warmup", "--only", "edges", "--dtype", "bool"], cache)
    assert proc.returncode == 0, proc.stderr
    assert "CannyEdgeExtractor" in proc.stdout  # progress lines
    assert str(cache) in proc.stdout  # says where the cache lives
    assert any(cache.iterdir())

    warm = _first_calls(cache)
    assert warm == {"compiled": 0, "cache_hits": 2}


def test_warmup_help_documents_the_cache(capsys):
    assert main(["warmup", "--help"]) == 0
    out = capsys.readouterr().out
    assert "NUMBA_CACHE_DIR" in out
    assert "--only" in out and "--dtype" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--only", "kmeans"], "invalid choice: 'kmeans'"),
        (["--dtype", "int64"], "invalid choice: 'int64'"),
    ],
)
def test_warmup_rejects_unknown_names(args, message, capsys):
    assert main(["warmup", *args]) == 2
    assert message in capsys.readouterr().err


def test_warmup_subset_runs_in_process(capsys):
    # Nothing compiled is checked here (the in-process cache may be warm):
    # the subset selection and the summary line.
    assert main(["warmup", "--only", "color", "--dtype", "bool", "-q"]) == 0
    out = capsys.readouterr().out
    assert "ColorSpaceTransformer" not in out  # --quiet: no progress lines
    assert "kernel variants ready" in out
    assert "numba cache:" in out


def test_no_writable_cache_folder_compiles_without_cache(tmp_path):
    # numba finds no folder to cache in (only NUMBA_CACHE_DIR is tried, and
    # it cannot be created): numba.njit(cache=True) raises at import; skseg
    # compiles without the disk cache, warns once, and warmup says so.
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    env_vars = {"NUMBA_CACHE_LOCATOR_CLASSES": "UserProvidedCacheLocator"}
    code = (
        "import warnings, numpy as np\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    from skseg import CannyEdgeExtractor\n"
        "edges = CannyEdgeExtractor().fit_transform(np.eye(20, dtype=np.uint8)[None])\n"
        "print(int(edges.sum()), [str(w.message)[:40] for w in caught])\n"
    )
    env = {**os.environ, **env_vars, "NUMBA_CACHE_DIR": str(blocked / "cache")}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert "numba has no writable folder to cache" in proc.stdout

    proc = subprocess.run(
        [sys.executable, "-m", "skseg", "warmup", "--only", "color", "-q"]
        + ["--dtype", "bool"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 1
    assert "numba cache: None" in proc.stdout
    assert "set NUMBA_CACHE_DIR to a writable folder" in proc.stderr


# A fresh process: fit, transform and predict a photo-sized uint8 image with a
# photo's few colours at K = 8 and 256, reporting the kernels compiled.
_PHOTO_CHILD = """
import json
import numpy as np
from numba.core.event import install_recorder
from skseg import KMeansColorSegmenter

rng = np.random.default_rng(0)
t = rng.random(1100 * 1000)
base = np.stack([255 * t, 128 + 100 * np.sin(6 * t), 255 * (1 - t) ** 2], 1)
px = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8) // 4 * 4
X = px.reshape(1, 1100, 1000, 3)
with install_recorder("numba:compile") as rec:
    for k in (8, 256):
        km = KMeansColorSegmenter(k, n_init=1, random_state=0).fit(X)
        km.transform(X)
        km.predict(X)
names = {e.data["dispatcher"].py_func.__name__ for _, e in rec.buffer if e.is_start}
print(json.dumps(sorted(names)))
"""


def test_warmup_covers_a_photo_sized_image(tmp_path):
    # Runs of 1 Mpx and more label through a label per colour of the cube,
    # and the fitted photo's transform through its fitted colours (uint8 up
    # to 255 colours, uint16 above): kernels the small warm-up images do not
    # reach. After `skseg warmup` a photo compiles none of them.
    cache = tmp_path / "warm"
    args = ["-m", "skseg", "warmup", "--only", "segment", "--dtype", "uint8"]
    proc = _run(args, cache)
    assert proc.returncode == 0, proc.stderr
    child = _run(["-c", _PHOTO_CHILD], cache)
    assert child.returncode == 0, child.stderr
    assert json.loads(child.stdout.strip().splitlines()[-1]) == []
