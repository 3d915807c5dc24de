"""learntrace: provable training attendance for HR departments."""
