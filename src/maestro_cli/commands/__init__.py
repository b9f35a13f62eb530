"""One thin module per command: parse options, call a core, render what it returns."""
