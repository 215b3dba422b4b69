"""The cast and the words of the demo territory: case managers, referrers, services,
relatives, and the French texts professionals would write. Every name is made up."""

import random
from dataclasses import dataclass
from typing import Any

from shared import events as ev
from shared import fictitious
from shared.events.values import (
    CareCircleMember,
    CareRole,
    Orientation,
    Professional,
    ServiceType,
)

Note = tuple[ev.payloads.ContactKind, ev.payloads.ContactWith, str]


@dataclass(frozen=True)
class CaseManager:
    id: str
    name: str
    capacity: int


# Two managers open the service, one of them part-time. As referrals come in, their places
# run out and persons wait; the coordinator then hires Bruno, and David two months later.
FOUNDERS = (CaseManager("gc-anne", "Anne Fictif", 35),
            CaseManager("gc-claire", "Claire Modèle", 20))  # part-time
HIRES = (CaseManager("gc-bruno", "Bruno Exemple", 35),
         CaseManager("gc-david", "David Témoin", 35))
HIRING_QUEUE = 5  # persons waiting for a place that make the case for a new post
LATEST_HIRING_DAY = 480
BETWEEN_HIRES = 50
REBALANCING = 5  # persons handed to a manager who joins an established team


def _professional(pro_id: str, name: str, profession: str, organisation: str) -> Professional:
    return Professional(id=pro_id, name=name, profession=profession, organisation=organisation,
                        contact=f"{pro_id}@exemple.invalid")


# The médecins traitants of the territory, by commune: they refer, join care circles, validate.
GPS = (
    _professional("dr-fictif", "Dr Hélène Fictif", "médecin traitant",
                  "Cabinet médical de Villefictive"),
    _professional("dr-maquette", "Dr Irène Maquette", "médecin traitant",
                  "Cabinet médical de Villefictive"),
    _professional("dr-exemple", "Dr Paul Exemple", "médecin traitant",
                  "Maison de santé de Saint-Exemple"),
    _professional("dr-prototype", "Dr Jacques Prototype", "médecin traitant",
                  "Maison de santé de Saint-Exemple"),
    _professional("dr-modele", "Dr Sophie Modèle", "médecin traitant",
                  "Cabinet médical de Bourg-Témoin"),
    _professional("dr-temoin", "Dr Louis Témoin", "médecin traitant",
                  "Cabinet médical du Val-d'Essai"),
)
GP_COMMUNES = {
    "Villefictive": GPS[0:2], "Saint-Exemple": GPS[2:4], "Bourg-Témoin": GPS[4:5],
    "Val-d'Essai": GPS[5:6],
}
OTHER_REFERRERS = (
    _professional("ide-essai", "Martine Essai", "infirmière coordinatrice", "SSIAD du Val-d'Essai"),
    _professional("ide-brouillon", "Karim Brouillon", "infirmier coordinateur",
                  "SSIAD de Villefictive"),
    _professional("as-echantillon", "Nadia Échantillon", "assistante sociale hospitalière",
                  "CH de Villefictive"),
    _professional("as-factice", "Julien Factice", "assistant social hospitalier",
                  "CHU de Saint-Exemple"),
    _professional("saad-esquisse", "Odile Esquisse", "responsable de secteur",
                  "SAAD Aide Fictive"),
    _professional("saad-ebauche", "Yann Ébauche", "responsable de secteur",
                  "SAAD Domicile Exemple"),
)


def _service(member_id: str, name: str, role: CareRole) -> CareCircleMember:
    return CareCircleMember(member_id=member_id, name=name, role=role, organisation=name,
                            contact=f"{member_id}@exemple.invalid")


SSIADS = (_service("ssiad-val-essai", "SSIAD du Val-d'Essai", "ssiad"),
          _service("ssiad-villefictive", "SSIAD de Villefictive", "ssiad"))
SAADS = (_service("saad-aide-fictive", "SAAD Aide Fictive", "saad"),
         _service("saad-domicile-exemple", "SAAD Domicile Exemple", "saad"),
         _service("saad-mains-modeles", "SAAD Les Mains Modèles", "saad"))
OTHER_MEMBERS = (_service("ide-cabinet-temoin", "Cabinet infirmier Témoin", "nurse"),
                 _service("kine-maquette", "Cabinet de kinésithérapie Maquette",
                          "physiotherapist"),
                 _service("pharmacie-songe", "Pharmacie du Songe", "pharmacist"))

FAMILY_NAMES = (*fictitious.FAMILY_NAMES, "Échantillon", "Brouillon", "Factice", "Simulé",
                "Imaginaire", "Inventé", "Fantaisie", "Chimère", "Mirage", "Songe", "Esquisse",
                "Ébauche", "Placebo")
WOMEN = ("Alice", "Colette", "Eugénie", "Ginette", "Jeanne", "Lucienne", "Madeleine",
         "Odette", "Paulette", "Simone", "Yvonne", "Marcelle", "Suzanne", "Germaine")
MEN = ("Bernard", "Denis", "Fernand", "Henri", "Lucien", "Marcel", "René", "Roger", "Gaston",
       "Maurice", "André", "Raymond")
RELATIVES = (("Sylvie", "fille"), ("Pascal", "fils"), ("Martine", "épouse"),
             ("Gérard", "époux"), ("Nathalie", "nièce"), ("Christophe", "petit-fils"))

# -- what professionals write ---------------------------------------------------------------

CONTEXTS = (
    "Chutes répétées et troubles cognitifs ; l'épouse, elle-même fragile, ne peut plus "
    "coordonner les aides.",
    "Refus de soins intermittent, aides insuffisantes malgré le passage quotidien du SSIAD.",
    "Retour à domicile prévu après hospitalisation ; personne isolée, aides à réorganiser.",
    "Dégradation rapide ; la famille, éloignée, ne peut pas organiser les interventions.",
    "Dénutrition et isolement ; plusieurs passages aux urgences en trois mois.",
)
EARLY_ONSET = "Maladie d'Alzheimer à début précoce ; conjoint épuisé, enfants à l'étranger."
CRITERIA = {
    "c1a_functional_autonomy": "Aide nécessaire pour la toilette, l'habillage et les transferts.",
    "c1b_medical": "Polypathologie : insuffisance cardiaque, diabète, chutes.",
    "c1c_decisional_autonomy": "Troubles cognitifs : décisions de santé difficiles à prendre seul.",
    "c2_help_insufficient": "Les aides en place ne couvrent pas les besoins.",
    "c3_no_resource_person": "Aucun proche en mesure de coordonner les réponses.",
}
RESOURCE_PERSON_PRESENT = "Sa fille, présente chaque jour, coordonne déjà les aides."

REFUSAL_WEIGHTS = {"criteria_not_met": 35, "other_service_better_suited": 25,
                   "person_declined": 20, "out_of_territory": 10, "other": 10}
REFUSALS = {
    "criteria_not_met": ("Critère 3 non rempli : l'entourage coordonne déjà les aides.",
                         Orientation(to="Plateforme d'accompagnement et de répit du Val-Fictif",
                                     kind="service",
                                     details="Soutien de l'aidante ; nouvelle orientation "
                                             "possible si la situation évolue.")),
    "other_service_better_suited": ("La coordination par le SSIAD suffit à la situation.",
                                    Orientation(to="SSIAD de Villefictive", kind="service",
                                                details="Suivi par l'infirmière "
                                                        "coordinatrice.")),
    "person_declined": ("La personne ne souhaite pas d'accompagnement pour le moment.",
                        Orientation(to="Médecin traitant", kind="professional",
                                    details="Reste l'interlocuteur ; nouvelle orientation "
                                            "possible.")),
    "out_of_territory": ("Le domicile est hors du territoire du dispositif.",
                         Orientation(to="DAC du Plateau-Exemple (fictif)", kind="service",
                                     details="Fiche transmise avec l'accord de la personne.")),
    "other": ("La situation relève d'abord d'une mesure de protection juridique.",
              Orientation(to="Service mandataire à la protection des majeurs (fictif)",
                          kind="service",
                          details="Signalement au juge accompagné par l'assistante sociale.")),
}
OUTSIDE_COMMUNE = "Plateau-Exemple"

NEEDS = {
    "health": ("prévention des chutes", "observance du traitement",
               "suivi de l'insuffisance cardiaque", "prise en charge de la douleur",
               "suivi nutritionnel", "consultation mémoire"),
    "functional_autonomy": ("aide à la toilette", "aide à l'habillage", "aide aux repas",
                            "aide aux transferts", "aide aux courses"),
    "human_environment": ("soutien de l'aidant principal", "rompre l'isolement",
                          "répit pour l'aidant", "désigner une personne de confiance"),
    "material_environment": ("aménagement de la salle de bain", "téléassistance",
                             "lit médicalisé", "sécurisation du logement"),
    "economic_administrative": ("dossier APA", "révision du plan d'aide APA",
                                "demande de mesure de protection", "aide à la gestion du budget"),
}
EVALUATION_SUMMARIES = {
    "initial": "Évaluation multidimensionnelle initiale à domicile, avec la personne et ses "
               "proches.",
    "periodic": "Réévaluation périodique : ajustement des aides à l'évolution de la situation.",
    "change": "Réévaluation après un changement de situation (chute sans hospitalisation).",
    "post_discharge": "Évaluation au retour à domicile après l'hospitalisation.",
}

# problem, objective, service type, provider when the care circle has none, frequency
PROBLEMS: tuple[tuple[str, str, ServiceType, str, str], ...] = (
    ("Chutes répétées à domicile", "Sécuriser les déplacements et les transferts",
     "physiotherapy", "Cabinet de kinésithérapie Maquette", "2/semaine"),
    ("Perte d'autonomie pour la toilette", "Assurer une toilette quotidienne en sécurité",
     "ssiad", "SSIAD de Villefictive", "1/jour"),
    ("Aide insuffisante pour la vie quotidienne", "Organiser l'aide au lever, aux repas et aux "
     "courses", "saad", "SAAD Aide Fictive", "2 h/jour"),
    ("Isolement social", "Maintenir des liens sociaux", "day_care",
     "Accueil de jour Les Songes (fictif)", "1/semaine"),
    ("Épuisement de l'aidant", "Offrir du répit à l'aidant", "respite",
     "Hébergement temporaire Le Mirage (fictif)", "1 semaine/trimestre"),
    ("Dénutrition", "Assurer des repas adaptés", "meals", "Portage de repas Exemple",
     "5/semaine"),
    ("Traitement mal pris", "Sécuriser la prise des médicaments", "nursing",
     "Cabinet infirmier Témoin", "2/jour"),
    ("Droits non ouverts", "Obtenir l'APA et l'adapter aux besoins", "other",
     "Conseil départemental (fictif)", "démarche ponctuelle"),
)
MORE_OFTEN = {"2/semaine": "3/semaine", "1/jour": "2/jour", "2 h/jour": "3 h/jour",
              "1/semaine": "2/semaine", "5/semaine": "7/semaine"}

NOTES_AT_HOME: tuple[Note, ...] = (
    ("visit", "person", "Visite à domicile : situation stable, les aides sont en place."),
    ("phone", "family", "Appel de l'aidant : fatigue, point sur les solutions de répit."),
    ("meeting", "professional", "Concertation avec le SSIAD et le SAAD : horaires de passage "
     "ajustés."),
    ("email", "professional", "Échange avec le médecin traitant sur l'adaptation du traitement."),
    ("phone", "professional", "Point avec le SAAD après l'absence d'une intervenante."),
    ("visit", "person", "Visite à domicile : la personne se dit mieux entourée."),
    ("meeting", "family", "Rencontre avec la famille pour préparer le dossier APA."),
)
NOTES_IN_HOSPITAL: tuple[Note, ...] = (
    ("phone", "professional", "Contact avec l'équipe hospitalière : transmission de la "
     "situation à domicile."),
    ("visit", "person", "Visite à l'hôpital : point avec la personne sur le retour à domicile."),
    ("meeting", "professional", "Préparation de la sortie avec le service social hospitalier."),
)
BACK_FROM_REHABILITATION: Note = ("visit", "person", "Retour à domicile après le séjour en "
                                  "soins de suite ; reprise des aides.")

EMERGENCIES = (
    ("CH de Villefictive", "Gériatrie aiguë", "Chute avec fracture du col du fémur"),
    ("CH de Villefictive", "Cardiologie", "Décompensation cardiaque"),
    ("CH de Villefictive", "Médecine interne", "Pneumopathie"),
    ("CHU de Saint-Exemple", "Gériatrie aiguë", "Syndrome confusionnel aigu"),
    ("CH de Villefictive", "Unité de courte durée", "Déshydratation"),
    ("CHU de Saint-Exemple", "Neurologie", "Accident vasculaire cérébral"),
)
PLANNED = (
    ("Clinique du Val-d'Essai", "Chirurgie orthopédique", "Prothèse de hanche programmée"),
    ("Clinique du Val-d'Essai", "Ophtalmologie", "Chirurgie de la cataracte"),
    ("CHU de Saint-Exemple", "Court séjour gériatrique", "Bilan gériatrique programmé"),
)
TRANSFERS = (("SSR Les Tilleuls (fictif)", "Soins de suite gériatriques"),
             ("CHU de Saint-Exemple", "Orthogériatrie"))
DESTINATIONS: dict[ev.payloads.DischargeDestination, int] = {
    "home": 15, "rehabilitation": 2, "ehpad": 2, "death": 1}  # after an emergency

CLOSURE_WEIGHTS: dict[ev.payloads.ClosureReason, int] = {
    "death": 3, "establishment": 3, "stabilisation": 2, "moved_out": 1, "refused_by_person": 1}
CLOSURE_COMMENTS = {
    "death": "Décès à domicile, entouré de sa famille.",
    "establishment": "Entrée en EHPAD (Résidence Les Songes, fictive).",
    "stabilisation": "Situation stabilisée : relais au médecin traitant et au SSIAD.",
    "moved_out": "Départ chez un enfant hors du territoire ; relais au DAC du Plateau-Exemple.",
    "refused_by_person": "La personne ne souhaite plus l'accompagnement ; médecin traitant "
                         "informé.",
}
DEATH_IN_HOSPITAL = "Décès au cours de l'hospitalisation."
EHPAD_AFTER_STAY = "Entrée en EHPAD à la sortie d'hospitalisation."

DYSFUNCTIONS: tuple[tuple[ev.payloads.DysfunctionCategory, str], ...] = (
    ("missing_resource", "Aucune place d'accueil de jour sur le secteur de Bourg-Témoin avant "
     "quatre mois."),
    ("missing_resource", "Pas de SSIAD en mesure d'intervenir le week-end au Val-d'Essai."),
    ("missing_resource", "Six semaines d'attente pour un portage de repas à Saint-Exemple."),
    ("poor_articulation", "Sortie d'hospitalisation un vendredi soir sans prévenir le SAAD ni "
     "le médecin traitant."),
    ("poor_articulation", "Lettre de liaison non transmise au médecin traitant après le séjour."),
    ("poor_articulation", "Deux services passent le matin sans coordination de leurs horaires."),
    ("unknown_services", "Le médecin traitant ne connaissait pas la plateforme de répit du "
     "territoire."),
    ("unknown_services", "Équipe des urgences sans connaissance du dispositif de gestion de cas."),
    ("unknown_services", "Le SAAD ignorait l'existence de l'accueil de jour itinérant."),
    ("other", "Transport sanitaire refusé pour une consultation mémoire."),
    ("other", "Dossier APA bloqué trois mois faute d'une pièce administrative."),
    ("other", "Téléassistance installée sans formation de la personne à son usage."),
)


class Deck:
    """Draws outcomes in fixed proportions from a shuffled deck, refilled when empty: unlike
    independent draws, a short story still shows every outcome (each EHPAD entry, each
    way a follow-up ends)."""

    def __init__(self, rng: random.Random, proportions: dict[Any, int]) -> None:
        self.rng, self.proportions = rng, proportions
        self.cards: list[Any] = []

    def draw(self) -> Any:
        if not self.cards:
            self.cards = [o for o, n in self.proportions.items() for _ in range(n)]
            self.rng.shuffle(self.cards)
        return self.cards.pop()
