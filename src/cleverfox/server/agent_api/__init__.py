"""The agent's check-in (``POST /api/agent/checkin``), authenticated with a Device's ApiKey.

Partner keys get 403 ``device_key_required`` on the agent's calls and an inactive device's
key 403 ``device_inactive``; agent calls ignore Tokens. A job's runs, the agent's other
calls, are the ``runs`` package's.
"""
