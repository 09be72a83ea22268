"""cmx: a command-line knowledge base of the Canada–Mexico Action Plan 2025–2028."""

__version__ = "0.1.0"
