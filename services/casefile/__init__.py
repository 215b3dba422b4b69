"""Case file: evaluations, service plan, hospital stays, closure, and the reads of a pathway."""
