"""The French web interface for professionals: server-rendered pages over the same
application and query functions as the JSON routes."""
