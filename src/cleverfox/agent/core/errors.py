"""The agent's own failures, each with the exit code the CLI gives it.

====  ===================================================================
code  meaning
====  ===================================================================
0     ok
1     a run failed (or could not run: another agent holds the lock)
2     usage or configuration: bad options, no or unreadable config file
3     the server: unreachable, TLS or pin refused, key refused (401/403)
====  ===================================================================
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_CONFIG = 2
EXIT_SERVER = 3


class AgentError(Exception):
    """A failure the agent reports as one line; ``exit_code`` is the process's."""

    exit_code = EXIT_RUN_FAILED


class ConfigError(AgentError):
    """The configuration is missing, unreadable or invalid, or an option is wrong."""

    exit_code = EXIT_CONFIG


class ServerUnreachable(AgentError):
    """The server could not be reached, its certificate was refused, or it refused the key."""

    exit_code = EXIT_SERVER


class AgentBusy(AgentError):
    """Another agent process holds the data folder's lock."""

    exit_code = EXIT_RUN_FAILED
