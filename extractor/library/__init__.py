"""The media library: a catalogue of every media file under some roots, and extraction of
them all, once, resumably, on a local process pool or a Dask cluster.

Modules: ``fingerprint`` (a cheap content fingerprint), ``catalog`` (the SQLite catalogue,
written only by the client), ``engine_base`` (the small interface every execution engine
offers), ``engines`` (the choice between them), ``local_engine`` / ``dask_engine`` (the two
engines), ``tasks`` (what runs on a worker: probe one file, extract one file through the
one pipeline; each returns a plain dict), ``paths`` (where outputs go, and ``--path-map``),
``scan`` and ``run`` (the client side of `scan` and `extract`), ``progress`` (the stderr
and JSON lines), ``report`` (status counts, Markdown and HTML), ``watch`` (a scan and an
extract again whenever files appear).

Rules: workers never write the catalogue; a job is recorded as done only from a result
that names a verified output the client can see on disk; a re-run does only what is
missing, failed (``retry_failed``) or stale (the source changed since its output was
made). An interface layer: it may use the batch runner's pieces (``extractor.batch``).
"""
