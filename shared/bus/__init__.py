"""The event bus: producer, topics, transactional outbox, idempotent consumer with inbox and DLQ."""
