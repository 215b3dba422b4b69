"""FHIR R4 read API of the pathway (FR Core Patient, EpisodeOfCare, CarePlan, CareTeam,
Encounter, Flag), built with the R4B models of ``fhir.resources``."""
