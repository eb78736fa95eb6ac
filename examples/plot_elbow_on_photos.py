"""
The elbow method on real photos: what was chosen, and why
=========================================================

The elbow method looks for a knee in the curve of the within-cluster sum of
squares (WCSS) against K. Flat colour groups give a knee; photos, whose
colours form a continuum, often do not. Then
:class:`~skseg.model_selection.ElbowKSelector` does not pretend: it falls
back to a documented rule (the smallest K whose WCSS is at most 10% of the
total sum of squares), and says so in

- ``knee_found_`` and ``selection_`` (``'knee'``, or the fallback used),
- ``selection_reason_`` (one sentence, also the text of the warning),
- the title and legend of :meth:`~skseg.model_selection.ElbowKSelector.plot`
  (the chosen point is drawn hollow and the fallback's level dotted),
- the output of ``skseg elbow``.

Below, the five photos of :mod:`skimage.data` on which the knee rule falls
back, and one on which it finds a knee.
"""

# %%
# Fit one selector per photo
# --------------------------
import textwrap
import warnings

import matplotlib.pyplot as plt
from skimage import data

from skseg.model_selection import ElbowKSelector

names = ["astronaut", "coffee", "chelsea", "rocket", "cat", "camera"]
photos = {name: getattr(data, name)() for name in names}
selectors = {}
for name, photo in photos.items():
    with warnings.catch_warnings():
        # the fallback's warning is the same sentence as selection_reason_
        warnings.simplefilter("ignore", UserWarning)
        selectors[name] = ElbowKSelector(random_state=0).fit(photo[None])

for name, selector in selectors.items():
    print(
        f"{name:>10}: K = {selector.n_clusters_}  knee_found_={selector.knee_found_}"
        f"  selection_={selector.selection_!r}"
    )

# %%
# The curves, with what was chosen
# --------------------------------
# Each title says whether K is a knee or a fallback. On the photos without a
# knee the dotted line is 10% of the total sum of squares: the fallback takes
# the first K whose WCSS is below it. Under each curve, ``selection_reason_``
# says why there is no knee: at the curve's most bent point it does not fall
# 1.5 times faster before than after (on log-log axes).
fig, axes = plt.subplots(2, 6, figsize=(22, 7.5), layout="constrained")
for column, (name, selector) in enumerate(selectors.items()):
    photo = photos[name]
    axes[0, column].imshow(photo, cmap="gray" if photo.ndim == 2 else None)
    axes[0, column].set_title(name)
    axes[0, column].set_axis_off()
    ax = axes[1, column]
    selector.plot(ax=ax)
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7)
    ax.set_xlabel("\n".join(textwrap.wrap(selector.selection_reason_, 44)), fontsize=7)
plt.show()

# %%
# What the fallback chose
# -----------------------
# The segmentation of each photo at the chosen K (``best_estimator_`` holds
# the palette of the curve at that K, so nothing is fitted again).
fig, axes = plt.subplots(1, 6, figsize=(22, 3.8), layout="constrained")
for ax, (name, selector) in zip(axes, selectors.items()):
    photo = photos[name]
    segmented = selector.transform(photo[None])[0]
    ax.imshow(segmented, cmap="gray" if photo.ndim == 2 else None)
    how = "knee" if selector.knee_found_ else "fallback"
    ax.set_title(f"{name}: K = {selector.n_clusters_} ({how})")
    ax.set_axis_off()
plt.show()

# %%
# The same from the command line
# ------------------------------
# ``skseg elbow`` prints the same curve (its WCSS column is what the plot
# shows, the next column is the same per pixel) and the rule::
#
#     $ skseg elbow --sample astronaut
#       K          WCSS  WCSS per pixel
#       ...
#       5   3.77696e+08          1440.8  <- chosen (fallback)
#       ...
#     chosen K: 5 (distortion: no knee, fallback rule; astronaut)
#     why: No knee in the WCSS curve over k_values=1..10 (...). Returning the
#     smallest K whose WCSS is at most 10% of the total sum of squares, ...
#
# When no knee is found, the silhouette or Calinski-Harabasz index
# (``metric=``) or a cross-validated score (:mod:`skseg.metrics`) are other
# ways to choose K.
