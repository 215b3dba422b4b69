"""The caseload view: persons per case manager with their status and count."""
