"""Building distributions and uploading them to any Python package index (``maestro build``/``publish``).

Modules: ``build`` (PEP 517, in-process when possible), ``distfiles`` (reading and checking files),
``credentials`` (target and credentials), ``index`` (the simple API), ``transport`` (the HTTP
client and servers' answers), ``multipart`` (the streamed request body), ``upload`` (retries,
skip-existing, verification), ``order`` (dependency waves) and ``run`` (all of ``maestro publish``).
"""
