"""The ``skseg`` command never destroys data (issue 17, part 2).

One test per rule: an output equal to an input is refused; existing outputs
are replaced only with ``--overwrite`` (otherwise one line naming the first
clash, exit 2, nothing written); files are written to a temporary name and
renamed, so an interrupted write leaves no partial file (in process and in a
subprocess interrupted by SIGINT); earlier outputs inside the output folder
are not read again unless named explicitly; Ctrl-C is one line, exit 130.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import skseg
from skseg import cli
from skseg.datasets import load_images, load_sample_image, save_image

REPO_ROOT = Path(skseg.__file__).resolve().parent.parent


def run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(folder):
    """{name: bytes} of every file under ``folder`` (hidden ones included)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(Path(folder).rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def photos(tmp_path):
    """A folder of two small photos."""
    folder = tmp_path / "photos"
    astronaut = load_sample_image("astronaut")
    save_image(folder / "a.png", astronaut[::8, ::8])
    save_image(folder / "b.png", astronaut[100:164, 200:264])
    return folder


# --- an output equal to an input is refused ----------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["segment", "{a}", "-k", "4", "-o", "{a}"],
        ["segment", "{a}", "-k", "4", "-o", "{a}", "--overwrite"],
        ["edges", "{a}", "-o", "{a}", "--overwrite"],
        ["elbow", "{a}", "--k-max", "3", "--plot", "{a}", "--overwrite"],
    ],
    ids=["segment", "segment-overwrite", "edges", "elbow-plot"],
)
def test_output_equal_to_an_input_is_refused(photos, capsys, argv):
    before = snapshot(photos)
    a = photos / "a.png"
    code, out, err = run([x.format(a=a) for x in argv], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "is also an input image" in err
    assert str(a) in err
    assert snapshot(photos) == before


def test_output_folder_name_equal_to_an_input_is_refused(photos, capsys):
    # a_k3.png named as input, and a.png whose result would be a_k3.png
    save_image(photos / "a_k3.png", load_sample_image("coffee")[:32, :32])
    before = snapshot(photos)
    code, _, err = run(
        ["segment", photos / "a_k3.png", photos / "a.png", "-o", photos, "--overwrite"],
        capsys,
    )
    assert code == 2 and "a_k3.png' is also an input image" in err
    assert snapshot(photos) == before


# --- existing outputs are replaced only with --overwrite ---------------------


def test_existing_output_needs_overwrite(photos, tmp_path, capsys):
    out = tmp_path / "out"
    # only the second image's result exists: the first must not be written
    save_image(out / "b_k3.png", np.zeros((4, 4), np.uint8))
    before = snapshot(out)
    code, stdout, err = run(["segment", photos, "-o", out], capsys)
    assert code == 2
    assert err == (
        f"skseg: error: '{out / 'b_k3.png'}' already exists; pass --overwrite "
        "to replace it (nothing was written)\n"
    )
    assert stdout == ""
    assert snapshot(out) == before  # a_k3.png not written either
    code, stdout, err = run(["segment", photos, "-o", out, "--overwrite"], capsys)
    assert code == 0, err
    assert sorted(snapshot(out)) == ["a_k3.png", "b_k3.png"]
    assert load_images([out / "b_k3.png"])[0].shape == (64, 64, 3)


def test_second_run_is_refused_and_names_the_clash_count(photos, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(["edges", photos, "-o", out], capsys)[0] == 0
    before = snapshot(out)
    code, _, err = run(["edges", photos, "-o", out], capsys)
    assert code == 2
    assert f"'{out / 'a_edges.png'}' already exists (and 1 other output)" in err
    assert snapshot(out) == before


def test_single_file_output_and_plot_need_overwrite(photos, tmp_path, capsys):
    target = tmp_path / "seg.png"
    target.write_bytes(b"keep me")
    code, _, err = run(["segment", photos / "a.png", "-o", target], capsys)
    assert code == 2 and "already exists" in err
    assert target.read_bytes() == b"keep me"
    plot = tmp_path / "elbow.png"
    plot.write_bytes(b"keep me too")
    code, out, err = run(
        ["elbow", photos / "a.png", "--k-max", "3", "--plot", plot], capsys
    )
    assert code == 2 and "already exists" in err and out == ""
    assert plot.read_bytes() == b"keep me too"
    code, out, err = run(
        ["elbow", photos / "a.png", "--k-max", "3", "--plot", plot, "--overwrite"],
        capsys,
    )
    assert code == 0, err
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- temporary name + rename -------------------------------------------------


def _interrupting_imsave(monkeypatch):
    import skimage.io

    def imsave(path, image, **kwargs):
        Path(path).write_bytes(b"\x89PNG\r\n\x1a\n half an image")
        raise KeyboardInterrupt

    monkeypatch.setattr(skimage.io, "imsave", imsave)


def test_interrupted_write_leaves_no_partial_file(
    photos, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "out"
    _interrupting_imsave(monkeypatch)
    code, _, err = run(["segment", photos, "-o", out], capsys)
    assert code == 130
    assert err == "skseg: interrupted\n"
    assert snapshot(out) == {}  # no result, no temporary file


def test_interrupt_inside_a_writer_prints_only_interrupted(
    photos, tmp_path, capsys, monkeypatch
):
    # An interrupt that lands in an image writer's constructor leaves a
    # half-made object whose finalizer fails (imageio's Pillow plugin did,
    # on a CI run): "skseg: interrupted" stays the only line on stderr.
    import skimage.io

    class HalfMade:
        def __init__(self):
            raise KeyboardInterrupt  # before the attributes __del__ reads

        def __del__(self):
            self._pixels_to_write.clear()

    def imsave(path, image, **kwargs):
        HalfMade()

    monkeypatch.setattr(skimage.io, "imsave", imsave)
    # the interpreter's own hook (pytest's would turn the noise into a warning)
    monkeypatch.setattr(sys, "unraisablehook", sys.__unraisablehook__)
    code, _, err = run(["segment", photos, "-o", tmp_path / "out"], capsys)
    assert code == 130
    assert err == "skseg: interrupted\n"


def test_interrupted_overwrite_keeps_the_old_file(
    photos, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "out"
    assert run(["segment", photos, "-o", out], capsys)[0] == 0
    before = snapshot(out)
    _interrupting_imsave(monkeypatch)
    code, _, err = run(["segment", photos, "-o", out, "--overwrite"], capsys)
    assert code == 130 and err == "skseg: interrupted\n"
    assert snapshot(out) == before


def test_writes_go_through_a_hidden_temporary_name(
    photos, tmp_path, capsys, monkeypatch
):
    import skimage.io

    written = []
    real = skimage.io.imsave

    def imsave(path, image, **kwargs):
        written.append(Path(path))
        return real(path, image, **kwargs)

    monkeypatch.setattr(skimage.io, "imsave", imsave)
    out = tmp_path / "out"
    assert run(["segment", photos, "-o", out], capsys)[0] == 0
    assert len(written) == 2
    for path in written:
        assert path.parent == out and path.name.startswith(".")
        assert path.suffix == ".png" and not path.exists()
    assert sorted(snapshot(out)) == ["a_k3.png", "b_k3.png"]


# --- earlier outputs in the output folder are not read again -----------------


def test_earlier_outputs_in_the_output_folder_are_not_read_again(photos, capsys):
    code, out, err = run(["segment", photos, "-o", photos], capsys)
    assert code == 0, err
    assert out.count("wrote") == 2
    # a second run reads the same two photos, not its own four files
    code, out, err = run(["segment", photos, "-o", photos, "--overwrite"], capsys)
    assert code == 0, err
    assert out.count("wrote") == 2
    assert "left out 2 earlier outputs in the output folder" in err
    assert sorted(snapshot(photos)) == ["a.png", "a_k3.png", "b.png", "b_k3.png"]
    # the same through a glob
    code, out, err = run(["edges", str(photos / "*.png"), "-o", photos], capsys)
    assert code == 0, err
    assert out.count("wrote") == 2 and "left out 2 earlier outputs" in err


def test_earlier_outputs_named_explicitly_are_read(photos, tmp_path, capsys):
    assert run(["segment", photos, "-o", photos], capsys)[0] == 0
    code, out, err = run(
        ["segment", photos / "a_k3.png", "-k", "2", "-o", photos], capsys
    )
    assert code == 0, err
    assert (photos / "a_k3_k2.png").exists()


def test_a_folder_of_earlier_outputs_only(photos, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(["segment", photos, "-o", out], capsys)[0] == 0
    code, _, err = run(["segment", out, "-o", out, "--overwrite"], capsys)
    assert code == 2
    assert "holds only earlier outputs of skseg" in err


def test_outputs_elsewhere_are_ordinary_inputs(photos, tmp_path, capsys):
    # a folder of files named like outputs is read when it is not the output
    out = tmp_path / "out"
    assert run(["segment", photos, "-o", out], capsys)[0] == 0
    code, out_text, err = run(["edges", out, "-o", tmp_path / "edges"], capsys)
    assert code == 0, err
    assert out_text.count("wrote") == 2 and "left out" not in err


# --- Ctrl-C: one line, exit 130, no partial file (a real SIGINT) -------------


_SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import skimage.io
    from skseg import cli

    def imsave(path, image, **kwargs):
        # half a file, then wait to be interrupted in the middle of the write
        Path(path).write_bytes(b"\\x89PNG\\r\\n\\x1a\\n half an image")
        print("WRITING", flush=True)
        time.sleep(60)

    skimage.io.imsave = imsave
    sys.exit(cli.main(sys.argv[1:]))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_during_a_write_leaves_no_partial_file(photos, tmp_path):
    out = tmp_path / "out"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITER, "segment", str(photos), "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        line = proc.stdout.readline()  # blocks until the first write started
        assert line == "WRITING\n"
        assert any(p.name.startswith(".") for p in out.iterdir())  # in progress
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert stderr == "skseg: interrupted\n"
    assert "wrote" not in stdout
    assert snapshot(out) == {}  # neither the result nor its temporary file


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_leaves_only_whole_files(tmp_path):
    # A real run over many images, interrupted after its first result: the
    # files left are whole images, and no temporary file remains.
    folder = tmp_path / "many"
    photo = load_sample_image("coffee")
    for i in range(40):
        save_image(folder / f"p{i:02d}.png", photo[i : i + 200, i : i + 300])
    out = tmp_path / "out"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "skseg", "edges", str(folder), "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("wrote ")
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    if proc.returncode == 0:  # pragma: no cover - finished before the signal
        pytest.skip("the run ended before SIGINT arrived")
    assert proc.returncode == 130
    assert stderr == "skseg: interrupted\n"
    files = sorted(out.iterdir())
    assert files and not [p for p in files if p.name.startswith(".")]
    for image in load_images(files):
        assert image.shape == (200, 300)
