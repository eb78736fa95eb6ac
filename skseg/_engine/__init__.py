"""The palette engine: one stage per module, imports running one way.

``distances`` (the one squared distance, the nearest-center scan, column
statistics) -> ``tables`` (counting distinct colours, merging, the one
accumulator of every route) -> ``coresets`` (grid coresets, one builder of
nested levels) -> ``lloyd`` (k-means++ seeding and weighted Lloyd) ->
``hamerly`` (Lloyd with bounds for many clusters) -> ``strategy`` (how a
table is fitted: restarts on coresets, exact refinement, the elbow's path
over K) -> ``floatpath`` (float pixels through a grid coreset), ``assign``
(labels of pixels) -> ``stream`` (the running state of ``partial_fit``).
See ``docs/architecture.rst``.
"""
