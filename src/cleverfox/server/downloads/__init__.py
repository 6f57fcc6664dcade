"""Backup file downloads: the partner's download calls (``/api/logitems/{Id}/download…``,
``…/entries``), the signed file URLs they hand out (``/api/files/…``) and the agent's
restore endpoints (``/api/agent/logitems/{Id}/manifest``, ``/api/agent/chunks/read``)."""
