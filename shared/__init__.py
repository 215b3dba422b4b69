"""Code shared by every Parcours service and projection: the event contract, the pathway
journal, settings and the small infrastructure adapters."""
