"""`maestro report`'s core: read JUnit and maestro results, aggregate them in bounded memory.

Nothing here prints or imports typer or rich; the command renders what :func:`build_report` returns.
"""
