"""Carving a module out of a legacy repo into an installable package (``maestro extract``).

Reusable without writing anything: :func:`.analysis.analyse_modules` classifies every import of a
set of files, and :class:`.distributions.DistributionResolver` maps a module to its distribution.
"""
