"""Dysfunctions reported by case managers, aggregated by territory and category for the
coordinators and the concertation tables."""
