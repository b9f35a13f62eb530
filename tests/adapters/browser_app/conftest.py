# project/ holds a user's browser tests, run by the adapters against app.py, never by this suite
collect_ignore = ["project"]
