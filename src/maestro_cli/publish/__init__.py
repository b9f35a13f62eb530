"""Building distributions and uploading them to any Python package index (``maestro build``/``publish``).

Modules: ``build`` (PEP 517, in-process when possible), ``distfiles`` (reading and checking files),
``credentials`` (target and credentials), ``index`` (the simple API), ``multipart`` (the streamed
request body), ``upload`` (retries, skip-existing, verification), ``order`` (dependency waves) and
``run`` (the whole of ``maestro publish`` as one function).
"""
