"""Intake: referrals from professionals, admission decisions, case manager assignment."""
