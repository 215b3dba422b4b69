"""French words for the codes the events carry."""

LABELS: dict[str, str] = {
    # statuses
    "awaiting_decision": "en attente de décision", "active": "suivi en cours",
    "refused": "refusé", "closed": "clos", "admitted": "admis",
    # roles
    "case_manager": "gestionnaire de cas", "coordinator": "coordination",
    "referrer": "professionnel orienteur", "analyst": "analyste",
    "administrator": "administration", "system": "Parcours (automatique)",
    "attending_gp": "médecin traitant", "nurse": "infirmier·e", "ssiad": "SSIAD",
    "saad": "SAAD", "physiotherapist": "kinésithérapeute", "pharmacist": "pharmacien·ne",
    "social_worker": "assistant·e de service social", "family_carer": "aidant familial",
    "trusted_person": "personne de confiance", "hospital_team": "équipe hospitalière",
    "other": "autre",
    # events
    "Referred": "Orientation reçue", "Admitted": "Admission décidée",
    "AdmissionRefused": "Admission refusée", "CaseManagerAssigned": "Gestionnaire désigné",
    "Waitlisted": "Mise en liste d'attente", "Evaluated": "Évaluation",
    "PlanRevised": "Révision du PSI", "PlanValidated": "PSI validé",
    "MemberJoined": "Entrée dans le cercle de soins",
    "MemberLeft": "Sortie du cercle de soins", "Hospitalised": "Hospitalisation",
    "StayTransferred": "Transfert d'établissement", "Discharged": "Sortie d'hospitalisation",
    "DischargeLetterReceived": "Lettre de liaison reçue", "FollowUpNoted": "Note de suivi",
    "DysfunctionReported": "Dysfonctionnement signalé", "AlertRaised": "Alerte",
    "AlertAcknowledged": "Alerte prise en compte", "AlertResolved": "Alerte résolue",
    "Closed": "Clôture",
    "AdmissionCancelled": "Hospitalisation annulée par l'établissement",
    "TransferCancelled": "Changement d'unité annulé par l'établissement",
    "DischargeCancelled": "Sortie annulée par l'établissement",
    "MovementCorrected": "Mouvement corrigé par l'établissement",
    "IdentityQualified": "Identité qualifiée reconnue par l'établissement",
    "ReferralReceivedAgain": "Orientation reçue pour une personne connue",
    "RepeatReferralResolved": "Orientation reçue de nouveau, traitée",
    # repeat referrals
    "already_followed": "déjà suivi", "identity_differs": "identité à vérifier",
    "joined": "rattachée au parcours en cours", "declined": "déclinée",
    # alert states
    "open": "ouverte", "acknowledged": "prise en compte", "resolved": "résolue",
    "info": "information", "warning": "attention", "critical": "critique",
    # evaluation kinds
    "initial": "initiale", "periodic": "périodique", "change": "changement de situation",
    "post_discharge": "retour d'hospitalisation",
    # domains and risk
    "health": "santé", "functional_autonomy": "autonomie fonctionnelle",
    "human_environment": "environnement humain",
    "material_environment": "environnement matériel",
    "economic_administrative": "situation économique et administrative",
    "low": "faible", "moderate": "modéré", "high": "élevé",
    # stays and discharges
    "emergency": "en urgence", "planned": "programmée", "home": "domicile",
    "ehpad": "EHPAD", "rehabilitation": "SSR (soins de suite)",
    "other_hospital": "autre hôpital", "death": "décès",
    # closures
    "establishment": "entrée en établissement", "stabilisation": "stabilisation (relais)",
    "moved_out": "départ du territoire", "refused_by_person": "refus de la personne",
    # refusals
    "criteria_not_met": "critères non remplis", "out_of_territory": "hors territoire",
    "other_service_better_suited": "autre service plus adapté",
    "person_declined": "refus de la personne",
    # orientations
    "professional": "professionnel", "service": "service",
    # contacts
    "visit": "visite", "phone": "téléphone", "email": "courriel", "meeting": "réunion",
    "person": "la personne", "family": "la famille",
    # dysfunctions
    "missing_resource": "ressource manquante", "poor_articulation": "mauvaise articulation",
    "unknown_services": "services méconnus",
    # services
    "nursing": "soins infirmiers", "physiotherapy": "kinésithérapie", "meals": "portage de repas",
    "day_care": "accueil de jour", "respite": "répit",
    # audit
    "allowed": "autorisé", "not_found": "inconnu",
}

CRITERIA = {
    "c1a_functional_autonomy": "1A. Autonomie fonctionnelle compromise",
    "c1b_medical": "1B. Problème médical",
    "c1c_decisional_autonomy": "1C. Autonomie décisionnelle compromise",
    "c2_help_insufficient": "2. Aides et soins insuffisants ou inadaptés",
    "c3_no_resource_person": "3. Pas de personne ressource pour coordonner",
}

SCALES = {"adl_hierarchy": ("ADL-H", 0, 6), "cps": ("CPS", 0, 6), "chess": ("CHESS", 0, 5),
          "maple": ("MAPLe", 1, 5)}
"""Each scale's name and range: the chart draws each from its bottom to its top."""


def label(code: object) -> str:
    text = str(code) if code is not None else ""
    return LABELS.get(text, text)


def options(*codes: str) -> list[tuple[str, str]]:
    return [(code, label(code)) for code in codes]
