"""Repeat referrals: a referring professional refers a person the pathway already follows, or
gives their INS with other identity traits. Whether a person is known is not a referrer's to
learn (finding 9 of issue 19), so the referral is answered as any other and recorded here, for
the territory's coordinator to resolve in the commission. It changes nothing of the episode.

And what the sender of a referral may know of it: its receipt, never the pathway's other
episodes."""

from dataclasses import replace
from datetime import datetime
from uuid import UUID

from shared import events as ev
from shared.domain.commands import Meta
from shared.domain.dates import local_day
from shared.domain.errors import RuleBrokenError
from shared.domain.plausibility import comparable
from shared.domain.records import Receipt, RepeatReferral
from shared.domain.state import PathwayState
from shared.events.payloads import IdentityTrait
from shared.events.values import Person, SubmittedIdentity

REPEAT_PAYLOADS = (ev.ReferralReceivedAgain, ev.RepeatReferralResolved)
"""Not facts of the person's follow-up: they do not date the episode's last fact."""

TRAITS: tuple[IdentityTrait, ...] = ("family_name", "given_names", "birth_date", "sex")


class RepeatReferrals(PathwayState):
    def differing_traits(self, person: Person) -> list[IdentityTrait]:
        """The traits of a referral that are not the file's, compared as people read them;
        the INS is the same (it found this pathway)."""
        known = self.person
        if known is None:
            return []
        return [trait for trait in TRAITS
                if comparable(getattr(person, trait)) != comparable(getattr(known, trait))]

    def _receive_again(self, referral: ev.Referred, differing: list[IdentityTrait],
                       meta: Meta) -> None:
        if referral.referral_id is None:
            raise ValueError("a repeat referral is known by the id its sender was given")
        person = referral.person
        self._record(ev.ReferralReceivedAgain(
            referral_id=referral.referral_id, referrer=referral.referrer,
            referred_on=referral.referred_on, territory=referral.territory,
            identity=SubmittedIdentity(family_name=person.family_name,
                                       given_names=person.given_names,
                                       birth_date=person.birth_date, sex=person.sex),
            reason="identity_differs" if differing else "already_followed",
            differing_traits=differing), meta)

    def resolve_repeat_referral(self, referral_id: UUID, outcome: ev.payloads.RepeatOutcome,
                                comment: str, meta: Meta) -> None:
        """The coordinator joined the referral to the pathway, or declined it; whatever the
        pathway's status, since the referral may come after the episode ended."""
        known = self.repeat_referrals.get(referral_id)
        if known is None:
            raise RuleBrokenError("repeat_referral.unknown",
                                  "Orientation répétée inconnue pour ce dossier.")
        if known.outcome is not None:
            raise RuleBrokenError("repeat_referral.already_resolved",
                                  "Cette orientation répétée a déjà été traitée.")
        self._record(ev.RepeatReferralResolved(referral_id=referral_id, outcome=outcome,
                                               resolved_by=meta.actor.id, comment=comment),
                     meta)

    def _when_repeat(self, payload: ev.Payload, event_at: datetime) -> None:
        # New dicts: copies of the state share the old one.
        match payload:
            case ev.ReferralReceivedAgain():
                self.repeat_referrals = {**self.repeat_referrals, payload.referral_id:
                                         RepeatReferral(payload, event_at)}
            case ev.RepeatReferralResolved():
                known = self.repeat_referrals[payload.referral_id]
                self.repeat_referrals = {**self.repeat_referrals, payload.referral_id: replace(
                    known, outcome=payload.outcome, resolved_by=payload.resolved_by,
                    resolved_at=event_at)}

    # -- receipts ---------------------------------------------------------------------------

    def receipt(self, referral_id: UUID) -> Receipt | None:
        """What the sender may know of the referral with this id, None if this pathway has
        none."""
        for episode in self.episodes:
            if episode.referral_id == referral_id:
                return self.episode_receipt(episode.number)
        repeat = self.repeat_referrals.get(referral_id)
        if repeat is None:
            return None
        return Receipt(referral_id=referral_id, sender_id=repeat.received.referrer.id,
                       status=repeat.outcome or "received",
                       decided_on=local_day(repeat.resolved_at) if repeat.resolved_at else None)

    def episode_receipt(self, number: int) -> Receipt:
        """The receipt of the referral that opened this episode: its decision only."""
        episode = self.episodes[number - 1]
        return Receipt(referral_id=episode.referral_id, sender_id=episode.referrer_id,
                       status=episode.decision or "received", decided_on=episode.decided_on,
                       episode=episode.number)
