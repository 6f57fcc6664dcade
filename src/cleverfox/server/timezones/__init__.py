"""The time-zone catalogue: Windows ids, IANA names and their display names."""
