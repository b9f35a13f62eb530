DEFAULTS = {"currency": "EUR", "port": 8701, "retries": 3}
