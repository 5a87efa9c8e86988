"""Booths' use cases: an exhibitor's request, the whole floor's allocation, the secretariat's
manual assignments and releases.

A booth and its exhibitor are two documents: the booth is claimed first by the conditional
update (`ExpoRepository.claim_booth`, the whole guarantee that no two exhibitors share one),
then recorded on the exhibitor (`rules.record_booth`, with `booth.assigned`). A crash between
the two leaves a booth held by an exhibitor that does not know it: the exhibitor's next request
records it (step 1 of `request_booth`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import structlog

from services.expo.booths import rules
from services.expo.common import not_found_exhibitor, refused
from services.expo.deps import Expo, on
from services.expo.documents import BoothDocument, ExhibitorDocument
from shared.contracts.expo import Explanation

log = structlog.get_logger("foro.expo")


@dataclass
class BoothAnswer:
    exhibitor_id: str
    booth: str | None
    explanation: Explanation
    manual: bool = False


async def _record_booth(
    deps: Expo, exhibitor_id: str, booth: BoothDocument, explanation: Explanation, *, manual: bool
) -> bool:
    applied = await deps.repository.exhibitors.apply(
        exhibitor_id,
        None,
        on(
            ExhibitorDocument,
            partial(rules.record_booth, booth=booth, explanation=explanation, manual=manual),
        ),
    )
    return bool(applied.result)


async def _record_refusal(deps: Expo, exhibitor_id: str, explanation: Explanation) -> None:
    await deps.repository.exhibitors.apply(
        exhibitor_id,
        None,
        on(ExhibitorDocument, partial(rules.record_refusal, explanation=explanation)),
    )


async def _exhibitor(deps: Expo, exhibitor_id: str) -> ExhibitorDocument | None:
    return ExhibitorDocument.read(await deps.repository.exhibitor(exhibitor_id))


async def _approved(deps: Expo, exhibitor_id: str) -> ExhibitorDocument:
    document = await _exhibitor(deps, exhibitor_id)
    if document is None:
        raise not_found_exhibitor()
    if document.status != "approved":
        raise refused(
            409,
            "not_approved",
            "La secretaría todavía no aprobó a este expositor.",
            "The secretariat has not approved this exhibitor yet.",
        )
    return document


async def _as_recorded(deps: Expo, exhibitor_id: str) -> BoothAnswer:
    """What a concurrent request for the same exhibitor recorded."""
    current = await _exhibitor(deps, exhibitor_id)
    assert current is not None and current.booth_explanation is not None
    return BoothAnswer(exhibitor_id, current.booth, current.booth_explanation)


async def request_booth(
    exhibitor_id: str, deps: Expo, preferences: list[str] | None = None
) -> BoothAnswer:
    """Give the exhibitor the best free booth of its zone, or say why not.

    Steps: (1) a booth the exhibitor already holds (also one claimed by an attempt that crashed
    before step 3) is simply recorded; (2) candidates are claimed in rank order by the
    conditional update — losing a race just moves on to the next candidate; (3) the claim is
    recorded on the exhibitor; if a concurrent request for the same exhibitor recorded another
    booth first, this claim is released.
    """
    repo, now = deps.repository, deps.clock()
    if preferences is not None:
        unknown = [code for code in preferences if deps.pack.booth(code) is None]
        if unknown:
            raise refused(
                422,
                "unknown_booth",
                f"Stands inexistentes: {', '.join(unknown)}.",
                f"No such booths: {', '.join(unknown)}.",
            )
        await repo.exhibitors.apply(
            exhibitor_id,
            None,
            on(ExhibitorDocument, partial(rules.preferences, wanted=preferences)),
        )
    document = await _approved(deps, exhibitor_id)
    if document.booth and document.booth_explanation is not None:
        return BoothAnswer(
            exhibitor_id, document.booth, document.booth_explanation, document.booth_manual
        )
    held = BoothDocument.read(await repo.booth_held_by(exhibitor_id))
    if held is not None and held.explanation is not None:
        if await _record_booth(deps, exhibitor_id, held, held.explanation, manual=held.manual):
            return BoothAnswer(exhibitor_id, held.id, held.explanation, held.manual)
        await repo.release_booth(held.id, exhibitor_id)  # a concurrent request recorded another
        return await _as_recorded(deps, exhibitor_id)
    applicant = rules.applicant_of(document)
    free = {b.id: b for b in map(BoothDocument.model_validate, await repo.free_booths())}
    ranked = rules.rank_booths(applicant, (rules.booth_slot(b) for b in free.values()))
    for candidate in ranked:
        explanation = rules.explain_choice(deps.pack, applicant, candidate)
        if not await repo.claim_booth(
            candidate.code,
            exhibitor_id,
            document.name,
            explanation.model_dump(),
            manual=False,
            now=now,
        ):
            continue  # lost the race for it: the next candidate
        if await _record_booth(deps, exhibitor_id, free[candidate.code], explanation, manual=False):
            log.info("booth assigned", exhibitor_id=exhibitor_id, booth=candidate.code)
            return BoothAnswer(exhibitor_id, candidate.code, explanation)
        await repo.release_booth(candidate.code, exhibitor_id)
        return await _as_recorded(deps, exhibitor_id)
    explanation = rules.explain_refusal(deps.pack, applicant)
    await _record_refusal(deps, exhibitor_id, explanation)
    log.info("booth refused", exhibitor_id=exhibitor_id, reason=explanation.code)
    return BoothAnswer(exhibitor_id, None, explanation)


async def allocate_floor(deps: Expo) -> list[BoothAnswer]:
    """Allocate every approved exhibitor without a booth, in the deterministic order of
    `rules.allocate`. The plan is computed once on one read of the floor; each placement is
    still the guarded claim-then-record, and an exhibitor whose planned booth was taken
    meanwhile (a concurrent request) goes through `request_booth`'s full path instead."""
    repo, now = deps.repository, deps.clock()
    waiting = {
        d.id: d
        for d in map(
            ExhibitorDocument.model_validate, await repo.approved_without_booth(deps.pack.forum.id)
        )
    }
    booths = [BoothDocument.model_validate(b) for b in await repo.all_booths()]
    answers: list[BoothAnswer] = []
    for booth in booths:  # claimed by an attempt that crashed before recording it: record it now
        if booth.exhibitor_id in waiting:
            answers.append(await request_booth(booth.exhibitor_id, deps))
            waiting.pop(booth.exhibitor_id)
    plan = rules.allocate(
        deps.pack,
        [rules.applicant_of(d) for d in waiting.values()],
        [rules.booth_slot(b) for b in booths],
    )
    by_code = {b.id: b for b in booths}
    for allocation in plan:
        exhibitor_id, code = allocation.exhibitor_id, allocation.booth
        if code is None:
            await _record_refusal(deps, exhibitor_id, allocation.explanation)
            answers.append(BoothAnswer(exhibitor_id, None, allocation.explanation))
            continue
        name = waiting[exhibitor_id].name
        if await repo.claim_booth(
            code, exhibitor_id, name, allocation.explanation.model_dump(), manual=False, now=now
        ):
            if await _record_booth(
                deps, exhibitor_id, by_code[code], allocation.explanation, manual=False
            ):
                answers.append(BoothAnswer(exhibitor_id, code, allocation.explanation))
                continue
            await repo.release_booth(code, exhibitor_id)
        answers.append(await request_booth(exhibitor_id, deps))
    return answers


async def _unassign(deps: Expo, exhibitor_id: str, code: str, reason: str) -> None:
    """Exhibitor first, booth second: a crash between leaves the booth held by the exhibitor,
    and the exhibitor's next request records it again instead of two exhibitors sharing it."""
    await deps.repository.exhibitors.apply(
        exhibitor_id, None, on(ExhibitorDocument, partial(rules.unassign, code=code, reason=reason))
    )
    await deps.repository.release_booth(code, exhibitor_id)


async def reset_allocation(deps: Expo, reason: str) -> int:
    """Free every booth the rules assigned (manual assignments stay), so the rules can run again."""
    count = 0
    for booth in map(BoothDocument.model_validate, await deps.repository.all_booths()):
        if booth.exhibitor_id and not booth.manual:
            await _unassign(deps, booth.exhibitor_id, booth.id, reason)
            count += 1
    return count


async def _booth(deps: Expo, code: str) -> BoothDocument:
    booth = BoothDocument.read(await deps.repository.booth(code))
    if booth is None:
        raise refused(
            404, "unknown_booth", f"El stand {code} no existe.", f"Booth {code} does not exist."
        )
    return booth


async def assign_manually(
    deps: Expo, code: str, exhibitor_id: str, reason: str, displace: bool
) -> BoothAnswer:
    repo, now = deps.repository, deps.clock()
    booth = await _booth(deps, code)
    document = await _approved(deps, exhibitor_id)
    if booth.exhibitor_id == exhibitor_id and booth.explanation is not None:
        return BoothAnswer(exhibitor_id, code, booth.explanation, booth.manual)
    if booth.exhibitor_id:
        if not displace:
            raise refused(
                409,
                "booth_taken",
                f"El stand {code} ya está asignado; use displace para liberarlo.",
                f"Booth {code} is taken; set displace to free it.",
            )
        await _unassign(deps, booth.exhibitor_id, code, reason)
    if document.booth:
        await _unassign(deps, exhibitor_id, document.booth, reason)
    explanation = rules.manual_explanation(reason)
    if not await repo.claim_booth(
        code, exhibitor_id, document.name, explanation.model_dump(), manual=True, now=now
    ):
        raise refused(
            409,
            "booth_taken",
            f"Otro expositor tomó el stand {code} en este momento.",
            f"Another exhibitor took booth {code} just now.",
        )
    if not await _record_booth(deps, exhibitor_id, booth, explanation, manual=True):
        await repo.release_booth(code, exhibitor_id)
        raise refused(
            409,
            "exhibitor_busy",
            "El expositor recibió otro stand en este momento.",
            "The exhibitor got another booth just now.",
        )
    return BoothAnswer(exhibitor_id, code, explanation, True)


async def release_manually(deps: Expo, code: str, reason: str) -> None:
    booth = await _booth(deps, code)
    if booth.exhibitor_id:
        await _unassign(deps, booth.exhibitor_id, code, reason)
