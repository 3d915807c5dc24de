"""The pages of the site as a whole: the start page, the system status page and the audit trail.
They read several apps, so they sit above them (core below everything stays free of pages)."""
