"""The ``skseg`` command line.

``skseg segment [IMAGE ...]`` segments images by colour with
:class:`skseg.KMeansColorSegmenter` and writes the quantized images as PNG.
Without IMAGE it works on a bundled sample photo.

The estimators are imported inside the subcommand, not when this module is
imported.
"""

import argparse
import contextlib
import sys
import warnings
from pathlib import Path

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
    """Reports usage errors as ``skseg: error: ...``, subcommands included."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"{PROG}: error: {message}\n")


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
            "Without IMAGE, a bundled sample photo is used."
        ),
        epilog=(
            "examples:\n"
            f"  {PROG} segment                      # the astronaut sample, K=3\n"
            f"  {PROG} segment -k 5 photo.jpg -o photo_k5.png\n"
            f"  {PROG} segment -k 7 --per-image a.png b.png -o results/\n"
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
            "image files (PNG, JPEG, TIFF, ...); default: the sample given by "
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
    segment.add_argument(
        "--sample",
        choices=sample_image_names(),
        default=None,
        metavar="NAME",
        help=(
            "bundled sample image to use when no IMAGE is given, one of: "
            f"{', '.join(sample_image_names())}"
        ),
    )
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
            "image files (one shared palette per K for all of them); default: "
            f"the sample given by --sample ({_DEFAULT_SAMPLE!r})"
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
    elbow.add_argument(
        "--random-state",
        type=_seed,
        default=0,
        metavar="N",
        help="seed of the k-means++ initialisation (default: %(default)s)",
    )
    elbow.add_argument(
        "--sample",
        choices=sample_image_names(),
        default=None,
        metavar="NAME",
        help="bundled sample image to use when no IMAGE is given",
    )
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
        help=f"image files; default: the sample given by --sample "
        f"({_DEFAULT_SAMPLE!r})",
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
    edges.add_argument(
        "--sample",
        choices=sample_image_names(),
        default=None,
        metavar="NAME",
        help="bundled sample image to use when no IMAGE is given",
    )
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
        choices=("segment", "edges", "color", "elbow"),
        metavar="NAME",
        help="compile only the kernels of this estimator (segment, edges, color "
        "or elbow); repeatable (default: all)",
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
    try:
        from skseg import __version__
    except ImportError:  # pragma: no cover - __init__ always defines it
        __version__ = "unknown"
    return f"{PROG} {__version__}"


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
    try:
        return args.func(args)
    except CommandError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError, TypeError) as exc:
        # Unreadable files, invalid images, estimator input errors: the
        # message is meant for the user, the traceback is not.
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _segment(args):
    """The ``segment`` subcommand."""

    from skseg.datasets import save_image

    k = args.n_clusters
    if args.hue_encoding is not None and args.space != "hsv":
        raise CommandError(
            f"--hue-encoding {args.hue_encoding} needs --space hsv (got "
            f"--space {args.space})"
        )
    stems = _input_stems(args)
    # Output paths are checked before any image is read.
    targets = _output_paths(Path(args.output), stems, k)
    images = _load_inputs(args)

    from skseg import ColorSpaceTransformer, KMeansColorSegmenter

    params = {
        "n_clusters": k,
        "output": "quantized",
        "per_image": args.per_image,
        "random_state": args.random_state,
    }
    if args.n_init is not None:
        params["n_init"] = args.n_init
    segmenter = KMeansColorSegmenter(**params)

    X = _as_batch(images)
    converter = None
    if args.space != "rgb":
        channels = images[0].shape[2] if images[0].ndim == 3 else 1
        if channels != 3:  # the same for all images (checked when loaded)
            kind = {1: "grayscale", 4: "RGBA"}.get(channels, f"{channels}-channel")
            raise CommandError(
                f"--space {args.space} needs RGB images, but the images are "
                f"{kind}; use --space rgb"
            )
        converter = ColorSpaceTransformer(args.space, hue_encoding=args.hue_encoding)
    with _warnings_to_stderr():
        if converter is not None:
            X = converter.fit_transform(X)
        segmented = segmenter.fit_transform(X)
        if args.per_image:
            # inertia_ is the WCSS of the shared palette that fit learns;
            # score() uses each image's own palette, as in the files written.
            wcss = -float(segmenter.score(X))
        else:
            n_pixels = sum(im.shape[0] * im.shape[1] for im in images)
            wcss = float(segmenter.inertia_) / n_pixels
        if converter is not None:  # back to RGB in [0, 1], to be written
            segmented = converter.inverse_transform(segmented)

    for target, image in zip(targets, segmented):
        save_image(target, image)
        height, width = image.shape[:2]
        n_colours = _count_colours(image)
        print(
            f"wrote {target} ({width}x{height}, {n_colours} "
            f"colour{'' if n_colours == 1 else 's'})"
        )
    notes = [f"in {args.space} units"] if converter is not None else []
    if args.per_image:
        notes.append("one palette per image")
    suffix = f" ({'; '.join(notes)})" if notes else ""
    print(f"WCSS per pixel: {wcss:.6g}{suffix}")
    return 0


def _input_stems(args):
    """Names of the images to work on: file stems, or the sample's name."""
    if args.images and args.sample is not None:
        raise CommandError("--sample cannot be combined with IMAGE arguments")
    if args.images:
        return [Path(p).stem for p in args.images]
    return [args.sample or _DEFAULT_SAMPLE]


def _load_inputs(args):
    """The images named on the command line, or the bundled sample."""
    from skseg.datasets import load_images, load_sample_image

    if args.images:
        sources = [str(p) for p in args.images]
        images = load_images(args.images)
    else:
        (name,) = _input_stems(args)
        sources, images = [f"sample {name!r}"], [load_sample_image(name)]
    _check_same_channels(images, sources)
    return images


def _as_batch(images):
    import numpy as np

    shapes = {(im.shape, im.dtype) for im in images}
    return np.stack(images) if len(shapes) == 1 else images


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
    stems = _input_stems(args)
    images = _load_inputs(args)

    from skseg import ElbowKSelector

    selector = ElbowKSelector(
        k_values=list(range(args.k_min, args.k_max + 1)),
        metric=args.metric,
        random_state=args.random_state,
    )
    with _warnings_to_stderr():
        selector.fit(_as_batch(images))
    n_pixels = sum(im.shape[0] * im.shape[1] for im in images)
    header = "" if args.metric == "distortion" else args.metric
    print(f"{'K':>3}  {'WCSS per pixel':>14}  {header}".rstrip())
    for k, inertia, score in zip(
        selector.k_values_, selector.inertias_, selector.scores_
    ):
        extra = "" if args.metric == "distortion" else f"{score:.6g}"
        mark = "  <- chosen" if k == selector.n_clusters_ else ""
        print(f"{k:>3}  {inertia / n_pixels:>14.6g}  {extra}{mark}".rstrip())
    print(f"chosen K: {selector.n_clusters_} ({args.metric}, {', '.join(stems)})")
    if args.plot is not None:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        selector.plot(ax=ax)
        fig.tight_layout()
        target = Path(args.plot)
        target.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(target)
        plt.close(fig)
        print(f"wrote {target}")
    return 0


def _edges(args):
    """The ``edges`` subcommand."""
    from skseg.datasets import save_image

    stems = _input_stems(args)
    targets = _output_paths(Path(args.output), stems, suffix="edges")
    images = _load_inputs(args)
    # Edges are found on the luminance: an alpha channel plays no part.
    images = [
        im[..., :3] if im.ndim == 3 and im.shape[-1] == 4 else im for im in images
    ]

    from skseg import CannyEdgeExtractor

    extractor = CannyEdgeExtractor(
        sigma=args.sigma,
        low_threshold=args.low,
        high_threshold=args.high,
        use_quantiles=args.quantiles,
        gradient=args.gradient,
    )
    with _warnings_to_stderr():
        edge_maps = extractor.fit_transform(_as_batch(images))
    for target, edge_map in zip(targets, edge_maps):
        save_image(target, edge_map)
        height, width = edge_map.shape[:2]
        share = float(edge_map.mean())
        print(f"wrote {target} ({width}x{height}, {share:.1%} edge pixels)")
    return 0


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
                print(f"{PROG}: warning: {w.message}", file=sys.stderr)


def _output_paths(output, stems, k=None, *, suffix=None):
    """Where each result goes: one file, or ``<stem>_<suffix>.png`` in a folder.

    The suffix is ``k<K>`` for segmentations.
    """
    suffix = suffix if suffix is not None else f"k{k}"
    if output.suffix.lower() in _WRITE_EXTENSIONS:
        if len(stems) > 1:
            raise CommandError(
                f"--output {str(output)!r} names a single file, but "
                f"{len(stems)} images were given; pass a directory instead"
            )
        return [output]
    if output.is_file():
        raise CommandError(
            f"--output {str(output)!r} is an existing file, not a directory"
        )
    targets = [output / f"{stem}_{suffix}.png" for stem in stems]
    seen = {}
    for stem, target in zip(stems, targets):
        if target in seen:
            raise CommandError(
                f"two inputs would both be written to {str(target)!r} (same "
                f"file name {stem!r}); segment them in separate runs or rename "
                "one"
            )
        seen[target] = stem
    return targets


def _check_same_channels(images, sources):
    def describe(im):
        return "grayscale" if im.ndim == 2 else f"{im.shape[-1]} channels"

    kinds = {describe(im) for im in images}
    if len(kinds) > 1:
        details = ", ".join(f"{s}: {describe(im)}" for s, im in zip(sources, images))
        raise CommandError(
            "all images of one run must have the same channels, got "
            f"{details}; segment them in separate runs"
        )


def _count_colours(image):
    import numpy as np

    pixels = image.reshape(image.shape[0] * image.shape[1], -1)
    return len(np.unique(pixels, axis=0))
