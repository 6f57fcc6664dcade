"""CleverFox Backup: server, storage, agent, SDK and command line in one distribution."""

__version__ = "0.1.0"
