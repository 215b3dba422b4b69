"""Rupture alerts: the follow-up state of each pathway, the deadlines of rules R1–R7, and the
scheduler that fires them as facts in the journal."""
