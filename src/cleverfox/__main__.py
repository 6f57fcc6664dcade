"""``python -m cleverfox`` runs the command line."""

from cleverfox.cli.main import main

main()
