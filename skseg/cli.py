"""The ``skseg`` command line.

``skseg segment [IMAGE ...]`` segments images by colour with
:class:`skseg.KMeansColorSegmenter` and writes the quantized images as PNG;
``skseg edges`` writes Canny edge maps and ``skseg elbow`` chooses K. IMAGE
may be a file, a folder or a glob: collections are streamed file by file in
bounded memory (colour tables added up, one palette fitted on their sum).
Without IMAGE it works on a bundled sample photo. An unreadable file is
reported in one line and skipped; no traceback reaches the terminal.

The command never destroys data: an output path equal to an input is
refused; existing outputs are replaced only with ``--overwrite`` (otherwise
the run stops before reading or writing anything, naming the first clash);
every file is written under a hidden temporary name and renamed, so an
interrupted run leaves whole files only; files in the output folder named
as skseg names its results (``<stem>_k<K>.png``, ``<stem>_edges.png``) are
not read again unless named explicitly; Ctrl-C is one line, exit status 130.
Messages name the command's flags (``--low``), not the estimators'
parameters, and an unknown flag is answered with the closest one.

The estimators are imported inside the subcommand, not when this module is
imported.
"""

import argparse
import contextlib
import os
import re
import sys
import threading
import warnings
from pathlib import Path

import numpy as np

from skseg.datasets import _WRITE_EXTENSIONS, sample_image_names

__all__ = ["main"]

PROG = "skseg"
_DEFAULT_SAMPLE = "astronaut"
_DEFAULT_OUTPUT = "skseg-out"
# Spaces `segment --space` clusters in: the 3-channel spaces of
# ColorSpaceTransformer (written back to RGB through inverse_transform).
_SEGMENT_SPACES = ("rgb", "hsv", "lab", "luv", "xyz", "ycbcr", "yuv")


class CommandError(Exception):
    """An error reported to the user as ``skseg: error: ...`` (exit code 2)."""


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer seed, got {text!r}"
        ) from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(
            f"must be between 0 and 2**32 - 1, got {value}"
        )
    return value


class _ArgumentParser(argparse.ArgumentParser):
    """Reports usage errors as ``skseg: error: ...``, subcommands included.

    An unknown option is reported with the closest option of the command, if
    one is close (``--k`` -> ``-k/--n-clusters``).
    """

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"{PROG}: error: {message}\n")

    def parse_args(self, args=None, namespace=None):
        args, extras = self.parse_known_args(args, namespace)
        if extras:
            message = f"unrecognized arguments: {' '.join(extras)}"
            unknown = next((a for a in extras if a.startswith("-")), None)
            command = self._command_parser(getattr(args, "command", None))
            hint = _closest_option(unknown, command) if unknown else None
            if hint:
                message += f"; did you mean {hint}?"
            (command or self).error(message)
        return args

    def _command_parser(self, name):
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return action.choices.get(name)
        return None


def _closest_option(token, parser):
    """Find the option of ``parser`` closest to ``token``, or None.

    ``-k/--n-clusters`` for ``--k``; dashes and any ``=value`` aside.
    """
    import difflib

    if parser is None:
        return None
    name = token.split("=", 1)[0].lstrip("-").lower()
    options = {}
    for action in parser._actions:
        for option in action.option_strings:
            options[option.lstrip("-").lower()] = "/".join(action.option_strings)
    if not name:
        return None
    match = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    if match:
        return options[match[0]]
    # an option named inside the token: --threshold-low -> --low
    parts = set(re.split(r"[-_]", name))
    inside = {options[o] for o in options if len(o) >= 3 and o in parts}
    return inside.pop() if len(inside) == 1 else None


def _add_stream_options(parser, what):
    parser.add_argument(
        "-j",
        "--jobs",
        type=_positive_int,
        default=1,
        metavar="N",
        help=f"{what} N images at a time, in threads (default: %(default)s)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bar (it is drawn on stderr, only when stderr is a "
        "terminal and the run takes more than a second)",
    )


def _add_overwrite_option(parser, what):
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help=(
            f"replace existing {what} (without it, a run that would replace a "
            "file stops before writing anything); an input file is never "
            "overwritten"
        ),
    )


def _drop_quietly(exc):
    """Free what an interrupt left half-made, without its finalizers' noise.

    An interrupt that lands inside an image reader's or writer's constructor
    (imageio's Pillow plugin) leaves an object whose ``__del__`` fails on
    the attributes it never set, printing "Exception ignored in ..." after
    "interrupted". The interrupt's frames are dropped here, and the
    finalizers that run then report nothing.
    """
    import gc

    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        exc.__traceback__ = None
        gc.collect()
    finally:
        sys.unraisablehook = hook


def _add_sample_option(parser, listed=False):
    names = f", one of: {', '.join(sample_image_names())}" if listed else ""
    parser.add_argument(
        "--sample",
        choices=sample_image_names(),
        default=None,
        metavar="NAME",
        help=f"bundled sample image to use when no IMAGE is given{names}",
    )


def _build_parser():
    parser = _ArgumentParser(
        prog=PROG,
        description=(
            "Classic image segmentation (K-Means colour segmentation) with "
            "scikit-learn estimators."
        ),
        epilog=f"Run '{PROG} COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=_version_string())
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", title="commands"
    )

    segment = commands.add_parser(
        "segment",
        help="segment images by colour with K-Means and save the results",
        description=(
            "Segment images by colour with K-Means: every pixel is replaced by\n"
            "the colour of its cluster. All images share one palette (a cluster\n"
            "is the same colour in every image) unless --per-image is given.\n"
            "Folders and globs are streamed in bounded memory: the colours of\n"
            "every image are counted and added up, the palette is fitted once on\n"
            "them, then each image is segmented and written. An alpha channel\n"
            "plays no part: the colours are clustered (fully transparent pixels\n"
            "left out of the palette) and the alpha is written back unchanged.\n"
            "Unreadable images are reported and skipped (exit status 1; 2 when\n"
            "nothing could be read). Existing results are replaced only with\n"
            "--overwrite, an input never; earlier results (<stem>_k<K>.png) in the\n"
            "output folder are not read again unless named. Without IMAGE, a\n"
            "bundled sample photo is used."
        ),
        epilog=(
            "examples:\n"
            f"  {PROG} segment                      # the astronaut sample, K=3\n"
            f"  {PROG} segment -k 5 photo.jpg -o photo_k5.png\n"
            f"  {PROG} segment -k 7 --per-image a.png b.png -o results/\n"
            f"  {PROG} segment photos/ -k 8 --jobs 2 -o results/\n"
            f"  {PROG} segment 'shoot/*.jpg' -k 8 -o results/\n"
            f"  {PROG} segment --sample china -k 5\n"
            f"  {PROG} segment --space hsv --hue-encoding cossin  # the tutorial's HSV"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    segment.add_argument(
        "images",
        nargs="*",
        metavar="IMAGE",
        help=(
            "image files (PNG, JPEG, TIFF, ...), folders (their image files) or "
            "quoted glob patterns ('photos/*.jpg'); default: the sample given by "
            f"--sample ({_DEFAULT_SAMPLE!r})"
        ),
    )
    segment.add_argument(
        "-k",
        "--n-clusters",
        type=_positive_int,
        default=3,
        metavar="K",
        help="number of colours (clusters) (default: %(default)s)",
    )
    segment.add_argument(
        "-o",
        "--output",
        default=_DEFAULT_OUTPUT,
        metavar="PATH",
        help=(
            "output directory, where results are written as <stem>_k<K>.png; "
            "with a single image, a file name ending in "
            f"{', '.join(_WRITE_EXTENSIONS)} (default: %(default)s)"
        ),
    )
    _add_overwrite_option(segment, "results")
    segment.add_argument(
        "--per-image",
        action="store_true",
        help="fit one palette per image instead of one shared palette",
    )
    segment.add_argument(
        "--random-state",
        type=_seed,
        default=0,
        metavar="N",
        help="seed of the k-means++ initialisation (default: %(default)s)",
    )
    segment.add_argument(
        "--n-init",
        type=_positive_int,
        default=None,
        metavar="N",
        help="number of k-means restarts (default: the estimator's default)",
    )
    segment.add_argument(
        "--space",
        choices=_SEGMENT_SPACES,
        default="rgb",
        help=(
            "colour space to cluster in, as the tutorial clusters in HSV; the "
            "segmented images are converted back to RGB to be written "
            "(default: %(default)s)"
        ),
    )
    segment.add_argument(
        "--hue-encoding",
        choices=["cossin"],
        default=None,
        help=(
            "with --space hsv: cluster on (s cos h, s sin h, v), so that reds "
            "either side of hue 0 fall in one cluster"
        ),
    )
    _add_sample_option(segment, listed=True)
    _add_stream_options(segment, "read and segment")
    segment.set_defaults(func=_segment)

    elbow = commands.add_parser(
        "elbow",
        help="choose the number of colours K with the elbow method",
        description=(
            "Choose the number of colours K of a K-Means colour segmentation:\n"
            "the within-cluster sum of squares (WCSS) for every K in a range,\n"
            "and the knee of that curve (or the best cluster-separation index\n"
            "with --metric). Prints the chosen K and the curve. Without IMAGE,\n"
            "a bundled sample photo is used."
        ),
        epilog=(
            "examples:\n"
            f"  {PROG} elbow                        # the astronaut sample, K=1..10\n"
            f"  {PROG} elbow photo.jpg --k-max 15 --plot elbow.png\n"
            f"  {PROG} elbow a.png b.png --metric silhouette"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    elbow.add_argument(
        "images",
        nargs="*",
        metavar="IMAGE",
        help=(
            "image files, folders or globs (one shared palette per K for all "
            f"of them); default: the sample given by --sample ({_DEFAULT_SAMPLE!r})"
        ),
    )
    elbow.add_argument(
        "--k-min",
        type=_positive_int,
        default=1,
        metavar="K",
        help="smallest K tried (default: %(default)s)",
    )
    elbow.add_argument(
        "--k-max",
        type=_positive_int,
        default=10,
        metavar="K",
        help="largest K tried (default: %(default)s, as in the tutorial)",
    )
    elbow.add_argument(
        "--metric",
        choices=("distortion", "silhouette", "calinski_harabasz"),
        default="distortion",
        help=(
            "distortion: knee of the WCSS curve; silhouette / calinski_harabasz:"
            " the K with the best index (default: %(default)s)"
        ),
    )
    elbow.add_argument(
        "--plot",
        metavar="PATH",
        default=None,
        help="save the curve with the chosen K marked (PNG, needs matplotlib)",
    )
    _add_overwrite_option(elbow, "the --plot file")
    elbow.add_argument(
        "--random-state",
        type=_seed,
        default=0,
        metavar="N",
        help="seed of the k-means++ initialisation (default: %(default)s)",
    )
    _add_sample_option(elbow)
    _add_stream_options(elbow, "read and count the colours of")
    elbow.set_defaults(func=_elbow)

    edges = commands.add_parser(
        "edges",
        help="find edges with the Canny detector and save the edge maps",
        description=(
            "Canny edge detection (smoothing, gradient, non-maximum suppression,\n"
            "double threshold, hysteresis); colour images are reduced to their\n"
            "luminance first. Thresholds apply to the gradient magnitude in the\n"
            "image's own units (0-255 for 8-bit images). The defaults are\n"
            "scikit-image's; the tutorial's cv2.Canny(gray, 150, 200) is\n"
            "--sigma 0 --low 150 --high 200 --gradient l1.\n"
            "Without IMAGE, a bundled sample photo is used."
        ),
        epilog=(
            "examples:\n"
            f"  {PROG} edges                        # the astronaut sample\n"
            f"  {PROG} edges photo.jpg --sigma 0 --low 150 --high 200 "
            "--gradient l1\n"
            f"  {PROG} edges a.png b.png --sigma 2 -o edges/"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    edges.add_argument(
        "images",
        nargs="*",
        metavar="IMAGE",
        help=f"image files, folders or globs; default: the sample given by "
        f"--sample ({_DEFAULT_SAMPLE!r})",
    )
    edges.add_argument(
        "--sigma",
        type=_non_negative_float,
        default=1.0,
        help="standard deviation of the Gaussian smoothing, 0 for none "
        "(default: %(default)s)",
    )
    edges.add_argument(
        "--low",
        type=_non_negative_float,
        default=None,
        help="low hysteresis threshold (default: 10%% of the dtype's maximum)",
    )
    edges.add_argument(
        "--high",
        type=_non_negative_float,
        default=None,
        help="high hysteresis threshold (default: 20%% of the dtype's maximum)",
    )
    edges.add_argument(
        "--quantiles",
        action="store_true",
        help="read --low and --high as quantiles (0..1) of the gradient magnitude",
    )
    edges.add_argument(
        "--gradient",
        choices=("l2", "l1"),
        default="l2",
        help="l2: scikit-image's Canny; l1: OpenCV's (default: %(default)s)",
    )
    edges.add_argument(
        "-o",
        "--output",
        default=_DEFAULT_OUTPUT,
        metavar="PATH",
        help=(
            "output directory, where edge maps are written as <stem>_edges.png; "
            "with a single image, a file name ending in "
            f"{', '.join(_WRITE_EXTENSIONS)} (default: %(default)s)"
        ),
    )
    _add_overwrite_option(edges, "edge maps")
    _add_sample_option(edges)
    _add_stream_options(edges, "read and process")
    edges.set_defaults(func=_edges)
    _add_warmup_parser(commands)
    return parser


def _add_warmup_parser(commands):
    warmup = commands.add_parser(
        "warmup",
        help="compile every kernel ahead of time (for images and workers)",
        description=(
            "Compile skseg's kernels for every input type the estimators\n"
            "read (uint8, uint16, float32, float64, bool; colour and gray)\n"
            "and every option that selects other kernels, and store the\n"
            "machine code in numba's on-disk cache. Later processes that use\n"
            "the same cache load it instead of compiling: their first call\n"
            "is as fast as any other. Run it once when building a container\n"
            "image, a CI cache or a cluster worker; it prints where the cache\n"
            "lives (set NUMBA_CACHE_DIR to choose the folder, and give the\n"
            "same NUMBA_CACHE_DIR to the processes that should use it)."
        ),
        epilog=(
            "examples:\n"
            f"  {PROG} warmup\n"
            f"  NUMBA_CACHE_DIR=/opt/numba-cache {PROG} warmup"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    warmup.add_argument(
        "--only",
        action="append",
        choices=("segment", "edges", "color", "superpixels", "elbow"),
        metavar="NAME",
        help="compile only the kernels of this estimator (segment, edges, color, "
        "superpixels or elbow); repeatable (default: all)",
    )
    warmup.add_argument(
        "--dtype",
        action="append",
        choices=("uint8", "uint16", "float32", "float64", "bool"),
        metavar="DTYPE",
        help="compile only for images of this dtype (uint8, uint16, float32, "
        "float64 or bool); repeatable (default: all)",
    )
    warmup.add_argument(
        "-q", "--quiet", action="store_true", help="print only the summary"
    )
    warmup.set_defaults(func=_warmup)


def _warmup(args):
    """The ``warmup`` subcommand."""
    from skseg._warmup import cache_writable, warmup

    log = None if args.quiet else (lambda line: print(f"  {line}", flush=True))
    report = warmup(log=log, only=args.only, dtypes=args.dtype)
    cache = report["cache"]
    print(
        f"{report['kernels']} kernel variants ready in {report['seconds']:.1f} s; "
        f"numba cache: {cache}"
    )
    if not cache_writable(cache):
        print(
            f"{PROG}: warning: the numba cache folder is not writable, so the "
            "kernels will be compiled again in every process; set "
            "NUMBA_CACHE_DIR to a writable folder",
            file=sys.stderr,
        )
        return 1
    return 0


def _version_string():
    # the installed distribution's version (the package root, which defines
    # skseg.__version__, sits above this module)
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{PROG} {version('skseg')}"
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return f"{PROG} unknown"


def main(argv=None):
    """Run the ``skseg`` command.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments without the program name; ``None`` reads
        ``sys.argv[1:]``.

    Returns
    -------
    exit_code : int
        0 on success, 2 on usage or input errors (reported on stderr as
        ``skseg: error: ...``).
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    global _command
    _command = args.command
    try:
        return args.func(args)
    except CommandError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError, TypeError) as exc:
        # Unreadable files, invalid images, estimator input errors: the
        # message is meant for the user, the traceback is not.
        print(f"{PROG}: error: {_flag_words(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        _drop_quietly(exc)
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print(f"{PROG}: error: out of memory", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: one line, the traceback on request
        if os.environ.get("SKSEG_TRACEBACK"):
            raise
        print(
            f"{PROG}: error: unexpected {type(exc).__name__}: {exc} (a bug; "
            "SKSEG_TRACEBACK=1 shows where)",
            file=sys.stderr,
        )
        return 1


class _Input:
    """One image to work on: a file, or the bundled sample."""

    def __init__(self, name, stem, path=None, sample=None):
        self.name, self.stem, self.path, self.sample = name, stem, path, sample

    def read(self):
        from skseg.datasets import _read_image, load_sample_image

        if self.sample is not None:
            return load_sample_image(self.sample)
        return _read_image(self.path)


def _inputs(args, output_folder=None):
    """The images named on the command line (files, folders, globs) or the sample.

    Files found in ``output_folder`` by expanding a folder or a glob whose
    names are those skseg writes (``<stem>_k<K>.png``, ``<stem>_edges.png``)
    are earlier outputs: they are left out (with a note on stderr) unless
    named explicitly, so that a second run does not segment its own results.
    """
    if args.images and args.sample is not None:
        raise CommandError("--sample cannot be combined with IMAGE arguments")
    if not args.images:
        name = args.sample or _DEFAULT_SAMPLE
        return [_Input(f"sample {name!r}", name, sample=name)]
    from skseg.datasets import list_image_files

    out_key = _path_key(output_folder) if output_folder is not None else None
    paths, left_out = [], []
    for source in args.images:
        text = os.fspath(source)
        path = Path(text)
        is_glob = bool(set("*?[").intersection(text)) and not path.exists()
        if not is_glob and not path.exists():
            if text.endswith(("/", os.sep)) or (os.altsep and text.endswith(os.altsep)):
                raise CommandError(f"no such folder: '{text}'")
            if not path.suffix:
                raise CommandError(f"no such file or folder: '{text}'")
        if not is_glob and not path.is_dir():
            paths.append(path)  # named explicitly: always read
            continue
        for found in list_image_files([text]):
            if (
                out_key is not None
                and _EARLIER_OUTPUT.search(found.name)
                and _path_key(found.parent) == out_key
            ):
                left_out.append(found)
            else:
                paths.append(found)
    if left_out:
        first = ", ".join(p.name for p in left_out[:2])
        more = ", ..." if len(left_out) > 2 else ""
        n = len(left_out)
        print(
            f"{PROG}: note: left out {n} earlier output{'' if n == 1 else 's'} "
            f"in the output folder '{output_folder}' ({first}{more}); name "
            "them explicitly to read them",
            file=sys.stderr,
        )
        if not paths:
            raise CommandError(
                f"the output folder '{output_folder}' holds only earlier outputs "
                f"of {PROG} ({first}{more}); name them explicitly to read them"
            )
    return [_Input(str(p), p.stem, path=p) for p in paths]


# Names skseg writes in an output folder.
_EARLIER_OUTPUT = re.compile(r"_(k\d+|edges)\.png$", re.IGNORECASE)


def _path_key(path):
    return os.path.normcase(os.path.realpath(os.fspath(path)))


def _same_file(a, b):
    if _path_key(a) == _path_key(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _output_folder(output):
    """``output`` if it names a folder (not a single output file), else None."""
    ext = output.suffix.lower()
    if ext in _WRITE_EXTENSIONS or ext in _READ_ONLY_EXTENSIONS:
        return None
    return output


def _check_targets(targets, inputs, overwrite, flag="--output"):
    """Refuse before anything is read: an output that is an input, or that exists.

    Existing files are replaced only with ``--overwrite``; an input is never
    replaced.
    """
    files = [item.path for item in inputs if item.path is not None]
    for target in targets:
        for path in files:
            if _same_file(target, path):
                raise CommandError(
                    f"{flag} '{target}' is also an input image; {PROG} never "
                    "writes over its inputs: choose another output path"
                )
    if not overwrite:
        existing = [t for t in targets if t.exists()]
        if existing:
            n = len(existing)
            more = ""
            if n > 1:
                more = f" (and {n - 1} other output{'' if n == 2 else 's'})"
            raise CommandError(
                f"'{existing[0]}' already exists{more}; pass --overwrite to "
                "replace it (nothing was written)"
            )


def _write_atomic(target, write):
    """``write(path)`` to a temporary name beside ``target``, then rename it.

    An interrupted or failed write leaves no partial file: the temporary file
    (hidden, so never read as an input) is removed, and ``target`` is either
    untouched or complete.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(
        f".{target.stem}.{os.getpid()}-{threading.get_ident()}.tmp{target.suffix}"
    )
    try:
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return target


def _split_alpha(image):
    """(colour part, alpha or None): alpha plays no part in the clustering."""
    if image.ndim == 3 and image.shape[-1] == 4:
        return image[..., :3], image[..., 3]
    return image, None


def _describe_channels(image):
    if image.ndim == 2:
        return "grayscale"
    return {3: "3 channels", 4: "4 channels (RGBA)"}.get(
        image.shape[-1], f"{image.shape[-1]} channels"
    )


# Seconds before a progress bar appears: short runs draw none.
_BAR_DELAY = 1.0


class _Run:
    """Images processed one by one (``--jobs`` threads), in input order.

    Holds at most a few images per thread at a time. Results are reported
    in input order; an image that cannot be read or processed is reported
    in one line (``skseg: error: ...``) and skipped. A progress bar on
    stderr is drawn for runs longer than a second, unless ``--quiet`` or
    stderr is not a terminal.
    """

    def __init__(self, args):
        self.jobs = getattr(args, "jobs", 1) or 1
        self.quiet = getattr(args, "quiet", False)
        self.failed = []
        self.bar = None

    def _bar(self, total, desc):
        if self.quiet or total < 2 or not _isatty(sys.stderr):
            return None
        from tqdm import tqdm

        return tqdm(
            total=total, desc=desc, unit="img", file=sys.stderr, delay=_BAR_DELAY
        )

    def say(self, line, *, err=False):
        """Print a line (above the progress bar, if one is drawn)."""
        stream = sys.stderr if err else sys.stdout
        if self.bar is not None:
            self.bar.write(line, file=stream)
        else:
            print(line, file=stream)

    def map(self, func, items, desc):
        """Yield ``(item, func(item))`` for every item that did not fail."""
        self.bar = self._bar(len(items), desc)
        try:
            for item, (ok, value) in _ordered_map(func, items, self.jobs):
                if self.bar is not None:
                    self.bar.update()
                if ok:
                    yield item, value
                else:
                    self.failed.append(item)
                    self.say(f"{PROG}: error: {_flag_words(str(value))}", err=True)
        finally:
            if self.bar is not None:
                self.bar.close()
            self.bar = None

    def status(self, n_inputs):
        """Exit status: 0, 1 if some inputs failed, 2 if all did."""
        if not self.failed:
            return 0
        n = len(self.failed)
        if n_inputs == 1:
            return 2
        print(
            f"{PROG}: {n} of {n_inputs} image{'' if n_inputs == 1 else 's'} "
            "failed (reported above)",
            file=sys.stderr,
        )
        return 2 if n == n_inputs else 1


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _attempt(func, item):
    try:
        return True, func(item)
    except (OSError, ValueError, TypeError, MemoryError) as exc:
        return False, exc


def _ordered_map(func, items, jobs):
    """``(item, (ok, result))`` in order, at most ``2 * jobs`` in flight."""
    if jobs <= 1 or len(items) < 2:
        for item in items:
            yield item, _attempt(func, item)
        return
    import collections
    import concurrent.futures

    pool = concurrent.futures.ThreadPoolExecutor(jobs)
    try:
        pending = collections.deque()
        items = iter(items)
        for item in items:
            pending.append((item, pool.submit(_attempt, func, item)))
            if len(pending) >= 2 * jobs:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
    finally:
        # on Ctrl-C (or any early stop) queued images are not started; those
        # in progress finish, each output written whole or not at all
        pool.shutdown(wait=True, cancel_futures=True)


def _count_table(pixels):
    """The colour table of an (h, w, c) or (h, w) image's pixels."""
    from skseg._engine.tables import count_block

    arr = pixels if pixels.ndim == 3 else pixels[..., None]
    return count_block(np.ascontiguousarray(arr)[None])


def _probe(image):
    """A batch of one 1x1 image with ``image``'s channels and dtype."""
    shape = (1, 1, 1) + image.shape[2:]
    return np.zeros(shape, image.dtype)


def _collect_colours(run, inputs, prepare):
    """Pass 1: the colour table of every readable input, added up."""
    from skseg._engine.tables import TableAccumulator

    colours = TableAccumulator()

    def count(item):
        image = item.read()
        features, alpha = prepare(image)
        pixels = features
        if alpha is not None and alpha.any():
            pixels = features[alpha > 0][None]  # transparent pixels left out
        # the image itself is dropped here: only its table is kept; an alpha
        # channel is not clustered, so RGB and RGBA images share a palette
        kind = _describe_channels(_split_alpha(image)[0])
        return kind, _count_table(pixels), _probe(features)

    kinds = {}
    probes = []
    for item, (kind, table, probe) in run.map(count, inputs, "counting colours"):
        kinds.setdefault(kind, []).append(item.name)
        if not probes or probe.dtype != probes[-1].dtype:
            probes.append(probe)
        colours.add(table)
    if len(kinds) > 1:
        details = "; ".join(
            f"{kind}: {', '.join(names[:3])}{', ...' if len(names) > 3 else ''}"
            for kind, names in kinds.items()
        )
        raise CommandError(
            "all images of one run must have the same channels (alpha aside), "
            f"got {details}; segment them in separate runs or with --per-image"
        )
    if not probes:
        return None, None
    dtype = np.result_type(*[p.dtype for p in probes])
    return colours.total(), probes[0].astype(dtype)


def _fit_on_table(estimator, table, probe):
    """``estimator`` fitted on a colour table counted file by file.

    Through the estimators' plan protocol (``__skseg_plan__``, see
    :mod:`skseg._glue`), as the dask adapter fits on a table reduced over
    blocks: ``probe`` is a batch of one image like the counted ones.
    """
    from skseg._glue import PixelPlan

    plan = estimator.__skseg_plan__("fit", probe)
    if isinstance(plan, PixelPlan):
        # float images: the files are read once and their table counted, so
        # the fit is the plan's fit on a table, not its passes over pixels
        plan = plan.table
    fitted = plan.fit(table)
    return fitted if plan.adopt is None else plan.adopt(fitted, table)


def _segment(args):
    """The ``segment`` subcommand."""
    from skseg.datasets import save_image

    k = args.n_clusters
    if args.hue_encoding is not None and args.space != "hsv":
        raise CommandError(
            f"--hue-encoding {args.hue_encoding} needs --space hsv (got "
            f"--space {args.space})"
        )
    output = Path(args.output)
    inputs = _inputs(args, _output_folder(output))
    # Output paths are checked before any image is read.
    targets = dict(zip(inputs, _output_paths(output, inputs, k)))
    _check_targets(list(targets.values()), inputs, args.overwrite)

    from skseg.color import ColorSpaceTransformer
    from skseg.segmentation import KMeansColorSegmenter

    params = {
        "n_clusters": k,
        "output": "quantized",
        "random_state": args.random_state,
    }
    if args.n_init is not None:
        params["n_init"] = args.n_init
    converter = None
    if args.space != "rgb":
        converter = ColorSpaceTransformer(args.space, hue_encoding=args.hue_encoding)

    def prepare(image):
        """(the pixels clustered, alpha or None)."""
        colour, alpha = _split_alpha(image)
        if converter is None:
            return colour, alpha
        if colour.ndim != 3:
            raise CommandError(
                f"--space {args.space} needs RGB images, but the images are "
                f"grayscale; use --space rgb"
            )
        return converter.fit_transform(colour[None])[0], alpha

    def finish(image, segmented):
        colour, alpha = _split_alpha(image)
        if converter is not None:  # back to RGB in [0, 1], to be written
            segmented = converter.inverse_transform(segmented[None])[0]
        if alpha is not None:  # alpha is kept as it was
            if segmented.dtype.kind == "f":
                scale = np.iinfo(alpha.dtype).max if alpha.dtype.kind in "iu" else 1
                alpha = (alpha / scale).astype(segmented.dtype)
            segmented = np.dstack([segmented, alpha.astype(segmented.dtype)])
        return segmented

    run = _Run(args)
    sse, n_pixels = 0.0, 0

    def write(item, image):
        target = targets[item]
        _write_atomic(target, lambda path: save_image(path, image))
        height, width = image.shape[:2]
        n_colours = _count_colours(image[..., :3] if image.ndim == 3 else image)
        return (
            f"wrote {target} ({width}x{height}, {n_colours} "
            f"colour{'' if n_colours == 1 else 's'})"
        )

    with _warnings_to_stderr():
        if args.per_image:
            from sklearn.utils import check_random_state

            # the seed KMeansColorSegmenter(per_image=True) gives every image
            seed = check_random_state(args.random_state).randint(2**31 - 1)

            def segment_one(item):
                image = item.read()
                features, alpha = prepare(image)
                fit_on = features
                if alpha is not None and alpha.any():
                    fit_on = features[alpha > 0][None]
                seg = KMeansColorSegmenter(**{**params, "random_state": seed})
                seg.fit(fit_on[None])
                out = seg.transform(features[None])[0]
                line = write(item, finish(image, out))
                return line, float(seg.inertia_), fit_on.shape[0] * fit_on.shape[1]

            for _, (line, inertia, n) in run.map(segment_one, inputs, "segmenting"):
                run.say(line)
                sse, n_pixels = sse + inertia, n_pixels + n
        else:
            table, probe = _collect_colours(run, inputs, prepare)
            if table is not None:
                segmenter = KMeansColorSegmenter(**params)
                segmenter = _fit_on_table(segmenter, table, probe)
                sse, n_pixels = float(segmenter.inertia_), table.n_pixels
                done = [item for item in inputs if item not in run.failed]

                def segment_one(item):
                    image = item.read()
                    features, _ = prepare(image)
                    out = segmenter.transform(features[None])[0]
                    return write(item, finish(image, out))

                for _, line in run.map(segment_one, done, "segmenting"):
                    run.say(line)
    if n_pixels:
        notes = [f"in {args.space} units"] if converter is not None else []
        if args.per_image:
            notes.append("one palette per image")
        suffix = f" ({'; '.join(notes)})" if notes else ""
        print(f"WCSS per pixel: {sse / n_pixels:.6g}{suffix}")
    return run.status(len(inputs))


def _elbow(args):
    """The ``elbow`` subcommand."""
    if args.k_min > args.k_max:
        raise CommandError(f"--k-min {args.k_min} is larger than --k-max {args.k_max}")
    if args.plot is not None:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            raise CommandError(
                "--plot needs matplotlib: pip install 'skseg[plot]'"
            ) from None
    inputs = _inputs(args)
    target = None
    if args.plot is not None:
        target = Path(args.plot)
        if not target.suffix:
            target = target.with_suffix(".png")
        _check_targets([target], inputs, args.overwrite, flag="--plot")

    from skseg.model_selection import ElbowKSelector

    selector = ElbowKSelector(
        k_values=list(range(args.k_min, args.k_max + 1)),
        metric=args.metric,
        random_state=args.random_state,
    )
    run = _Run(args)
    with _warnings_to_stderr():
        table, probe = _collect_colours(run, inputs, _split_alpha)
        if table is None:
            return run.status(len(inputs))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            selector = _fit_on_table(selector, table, probe)
        for w in caught:  # the rule's own warning is printed below, as "why"
            if str(w.message) != selector.selection_reason_:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    n_pixels = table.n_pixels
    # The WCSS column is what the plot (and ElbowKSelector.scores_) shows.
    header = f"{'K':>3}  {'WCSS':>12}  {'WCSS per pixel':>14}"
    if args.metric != "distortion":
        header += f"  {args.metric}"
    print(header)
    fallback = selector.selection_ in ("no_knee", "too_few", "upper_edge")
    for k, inertia, score in zip(
        selector.k_values_, selector.inertias_, selector.scores_
    ):
        extra = "" if args.metric == "distortion" else f"  {score:.6g}"
        mark = ""
        if k == selector.n_clusters_:
            mark = "  <- chosen" + (" (fallback)" if fallback else "")
        print(f"{k:>3}  {inertia:>12.6g}  {inertia / n_pixels:>14.6g}{extra}{mark}")
    names = [item.stem for item in inputs if item not in run.failed]
    shown = ", ".join(names[:5]) + (
        f", ... ({len(names)} images)" if len(names) > 5 else ""
    )
    how = args.metric
    if fallback:
        how += ": no knee, fallback rule"
    print(f"chosen K: {selector.n_clusters_} ({how}; {shown})")
    print(f"why: {_flag_words(selector.selection_reason_)}")
    if args.plot is not None:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        selector.plot(ax=ax)
        fig.tight_layout()
        fmt = target.suffix[1:].lower()
        try:
            _write_atomic(target, lambda path: fig.savefig(path, format=fmt))
        finally:
            plt.close(fig)
        print(f"wrote {target}")
    return run.status(len(inputs))


def _edges(args):
    """The ``edges`` subcommand."""
    from skseg.datasets import save_image

    output = Path(args.output)
    inputs = _inputs(args, _output_folder(output))
    targets = dict(zip(inputs, _output_paths(output, inputs, suffix="edges")))
    _check_targets(list(targets.values()), inputs, args.overwrite)

    from skseg.edges import CannyEdgeExtractor

    extractor = CannyEdgeExtractor(
        sigma=args.sigma,
        low_threshold=args.low,
        high_threshold=args.high,
        use_quantiles=args.quantiles,
        gradient=args.gradient,
    )
    # Edges are found on the luminance: an alpha channel plays no part.
    extractor.fit(np.zeros((1, 1, 1), np.uint8))  # parameters checked up front

    def edges_one(item):
        image, _ = _split_alpha(item.read())
        edge_map = extractor.transform(image[None])[0]
        target = targets[item]
        _write_atomic(target, lambda path: save_image(path, edge_map))
        height, width = edge_map.shape[:2]
        share = float(edge_map.mean())
        return f"wrote {target} ({width}x{height}, {share:.1%} edge pixels)"

    run = _Run(args)
    with _warnings_to_stderr():
        for _, line in run.map(edges_one, inputs, "finding edges"):
            run.say(line)
    return run.status(len(inputs))


# Python parameter names in the estimators' messages, and the flags of the
# command that set them: messages printed by the command name the flags.
_FLAGS = {
    "segment": [
        (r"\bn_clusters=", "-k "),
        (r"\bn_clusters\b", "-k/--n-clusters"),
        (r"\bn_init=", "--n-init "),
        (r"\bn_init\b", "--n-init"),
        (r"\brandom_state\b", "--random-state"),
    ],
    "edges": [
        (r"\blow_threshold=", "--low "),
        (r"\bhigh_threshold=", "--high "),
        (r"\blow_threshold and high_threshold\b", "--low and --high"),
        (r"\blow_threshold\b", "--low"),
        (r"\bhigh_threshold\b", "--high"),
        (r"\b[Ww]ith use_quantiles=True\b", "With --quantiles"),
        (r"\buse_quantiles=True\b", "--quantiles"),
        (r"\buse_quantiles\b", "--quantiles"),
        (r"\bsigma=", "--sigma "),
        (r"\bgradient=", "--gradient "),
        (r"\bNone means\b", "without them,"),
    ],
    "elbow": [
        (r"\btry larger k_values\b", "try a larger --k-max"),
        (r"\bk_values has values above\b", "--k-max is above"),
        (r"\bk_values=", "K="),
        (r"\bk_values\b", "--k-min..--k-max"),
    ],
}
_command = None  # the running subcommand, for _flag_words


def _flag_words(text, command=None):
    """Replace the estimators' parameter names in ``text`` by flags.

    The flags of ``command`` (default: the command being run); ``X``
    becomes the images.
    """
    command = command or _command
    for pattern, flag in _FLAGS.get(command, []):
        text = re.sub(pattern, flag, text)
    if command in _FLAGS:
        text = re.sub(r"\bin X\b", "in the images", text)
    return text


@contextlib.contextmanager
def _warnings_to_stderr():
    """Print the estimators' UserWarnings once each as ``skseg: warning: ...``.

    Other categories (RuntimeWarning, DeprecationWarning, ...) are re-issued
    unchanged.
    """
    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            yield
    finally:
        seen = set()
        for w in caught:
            if not issubclass(w.category, UserWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            elif str(w.message) not in seen:
                seen.add(str(w.message))
                print(
                    f"{PROG}: warning: {_flag_words(str(w.message))}", file=sys.stderr
                )


# Image formats skseg reads but does not write: an --output ending in one of
# them is refused rather than taken for a directory name.
_READ_ONLY_EXTENSIONS = (
    ".gif",
    ".webp",
    ".jp2",
    ".j2k",
    ".ico",
    ".ppm",
    ".pgm",
    ".pbm",
    ".pnm",
    ".tga",
    ".heic",
    ".avif",
    ".exr",
    ".svg",
    ".psd",
)


def _output_paths(output, inputs, k=None, *, suffix=None):
    """Where each result goes: one file, or ``<stem>_<suffix>.png`` in a folder.

    The suffix is ``k<K>`` for segmentations.
    """
    suffix = suffix if suffix is not None else f"k{k}"
    ext = output.suffix.lower()
    if ext in _READ_ONLY_EXTENSIONS:
        raise CommandError(
            f"--output {str(output)!r}: skseg cannot write {ext} files; use "
            f"one of {', '.join(_WRITE_EXTENSIONS)}, or a directory name"
        )
    if ext in _WRITE_EXTENSIONS:
        if len(inputs) > 1:
            raise CommandError(
                f"--output {str(output)!r} names a single file, but "
                f"{len(inputs)} images were given; pass a directory instead"
            )
        if output.is_dir():
            raise CommandError(
                f"--output {str(output)!r} is an existing directory, not a file"
            )
        return [output]
    if output.is_file():
        raise CommandError(
            f"--output {str(output)!r} is an existing file, not a directory"
        )
    targets = [output / f"{item.stem}_{suffix}.png" for item in inputs]
    seen = {}
    for item, target in zip(inputs, targets):
        if target in seen:
            raise CommandError(
                f"two inputs would both be written to {str(target)!r} (same "
                f"file name {item.stem!r}: {seen[target]} and {item.name}); "
                "segment them in separate runs or rename one"
            )
        seen[target] = item.name
    return targets


def _count_colours(image):
    return _count_table(image).n_colors
