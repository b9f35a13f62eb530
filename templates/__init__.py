"""maestro's Jinja2 templates.

This file makes the folder a package, so that poetry-core ships it inside the wheel as
``maestro_cli/templates`` (pyproject's ``packages = [{ include = "templates", to = "maestro_cli" }]``).
"""
