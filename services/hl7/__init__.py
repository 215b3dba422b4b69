"""HL7 v2.5 ADT intake over MLLP, following IHE PAM with the French extension (PAM.fr 2.11):
hospitals tell Parcours themselves when a person it follows is admitted, moved or discharged."""
