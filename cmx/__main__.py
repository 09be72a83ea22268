from cmx.cli import main

main()
