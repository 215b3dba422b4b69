"""The pathway journal: one append-only event stream per person followed."""
