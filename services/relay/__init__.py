"""The relay: the transactional outbox between the event store and Kafka."""
