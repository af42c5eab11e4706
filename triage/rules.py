"""Local qualification rules at work in the sync: the new items that match a rule are
pre-qualified here, locally (nothing is written upstream), with the rule on the item so that
the board shows "by rule X" and **Annuler** takes it back (`triage.qualify`)."""

from django.db import transaction
from django.utils import timezone

from triage.models import Item, RuleHit, RuleSubjects


def prequalify(source, rules, batch, *, since):
    """Pre-qualify the items of `batch` (ItemData just upserted) that this sync created (first
    mirrored at or after `since`) and that one of `rules` matches: the first that does, in
    `QualificationRuleQuerySet.applying_to` order. Returns how many.

    Queries: one read of the batch's new items, then (when some matched) one update per rule
    that hit and one insert of the hits, in a transaction.
    """
    if not rules:
        return 0
    new = dict(
        Item.objects.filter(
            source=source,
            external_id__in=[data.external_id for data in batch],
            mirrored_at__gte=since,
            qualification="",
            rule__isnull=True,
        ).values_list("external_id", "pk")
    )
    chosen = {}
    for data in batch:
        pk = new.pop(data.external_id, None)  # popped: a batch may repeat an item
        if pk is None:
            continue
        subjects = RuleSubjects(data.kind, data.title, data.origin, data.payload)
        for rule in rules:
            if rule.matches(subjects):
                chosen.setdefault(rule, []).append(pk)
                break
    if not chosen:
        return 0
    now = timezone.now()
    with transaction.atomic():
        for rule, pks in chosen.items():
            Item.objects.filter(pk__in=pks).update(
                qualification=rule.qualification,
                qualification_params={},
                qualified_by=None,
                qualified_at=now,
                rule=rule,
            )
        RuleHit.objects.bulk_create(
            RuleHit(rule=rule, item_id=pk, at=now) for rule, pks in chosen.items() for pk in pks
        )
    return sum(len(pks) for pks in chosen.values())
