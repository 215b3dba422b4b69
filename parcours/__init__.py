"""The composition root: builds the platform for the chosen mode and offers the command line.
It is the only package that may import every service and projection."""
