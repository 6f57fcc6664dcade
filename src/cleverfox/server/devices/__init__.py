"""Devices: the PCs and servers that are backed up.

Owns ``/api/devices`` (with ``POST …/{id}/apikey``), the device-key resolver that lets an
agent authenticate, a device's presence (check-ins, ``ConnectionStatus``, the Online and
Offline Events and the duty that notices devices going quiet) and the agent configuration
file served at a device's ``AgentDownloadUrl``.
"""
