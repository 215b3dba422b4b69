"""The rupture scheduler: a process manager that fires due deadlines into the journal."""
