"""The agent's side of the API (``/api/agent/…``), authenticated with a Device's ApiKey.

Partner keys get 403 ``device_key_required`` here and an inactive device's key 403
``device_inactive``; agent endpoints ignore Tokens. ``checkin`` owns the check-in; ``runs``
the start and finish of a job's runs.
"""
