"""Read models built from the pathway events. Each runs as its own Kafka consumer group in the
distributed mode, or fed from the store's log in the embedded mode, with the same code."""
