"""The ``cleverfox`` command: operator commands and (later) the partner's API commands."""
