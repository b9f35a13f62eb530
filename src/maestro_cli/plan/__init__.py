"""Test plans: loading and validating plan.yaml, scheduling its steps, writing the run's results.

``loader`` turns a YAML file into a validated :class:`~maestro_cli.plan.model.Plan`,
``scheduler`` runs it through an :class:`~maestro_cli.plan.executor.AttemptExecutor`,
``results`` writes results.json, junit.xml and the logs, and ``process`` is how every step and
service runs in a process group of its own.
"""
