"""Jobs, job items and their schedules."""
