"""Durable analysis jobs (design §2 "Jobs"): submit an upload, walk away, collect the result.

One seam to the pipeline (``Pipeline.stream``, C3); the rest is its own: ``store`` (job state:
SQLite embedded, PostgreSQL for replicas), ``files`` (uploads and per-job results under
``MMED_JOBS_DIR``), ``records`` (the checkpointed frames file), ``runner`` (worker tasks in the
gateway), ``routes`` (the HTTP API, C5) and ``metrics``.
"""
