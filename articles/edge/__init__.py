"""Edge caching: what each public response names, and purging it after a change (see purgers, tags, outbox)."""
