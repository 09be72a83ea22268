"""`python -m cmx`: the same as the `cmx` command."""

from cmx.process import main

main()
