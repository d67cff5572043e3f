"""Email: the transactional outbox and the relay that delivers it."""
