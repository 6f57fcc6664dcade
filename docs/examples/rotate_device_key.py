"""Give a device a new API key (say, after a laptop was lost); the old key stops at once.

    python rotate_device_key.py 56            # by DeviceId
    python rotate_device_key.py ext:LAPTOP-7  # by your ExternalId

The agent on the device must then be given the new key (reinstall it from AgentDownloadUrl).
"""

import os
import sys

from cleverfox.client import Client, NotFound


def main(which: str) -> None:
    with Client(
        os.environ["CLEVERFOX_URL"],
        os.environ["CLEVERFOX_API_KEY"],
        fingerprint=os.environ.get("CLEVERFOX_FINGERPRINT"),
    ) as client:
        if which.startswith("ext:"):
            device = next(client.devices.list(external_id=which[4:]), None)
            if device is None:
                raise NotFound(404, "not_found", f"no device with ExternalId {which[4:]}")
            device_id = device.device_id
        else:
            device_id = int(which)
        rotated = client.devices.rotate_api_key(device_id)
        print(f"device {rotated.device_id} ({rotated.name}) has a new key")
        print(f"reinstall its agent from {rotated.agent_download_url}")


if __name__ == "__main__":
    main(sys.argv[1])
