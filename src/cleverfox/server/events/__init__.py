"""Events: the partner's audit trail, read-only. Writing them is ``kit.events``' job."""
