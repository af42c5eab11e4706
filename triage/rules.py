"""Local qualification rules at work in the sync: the new items that match a rule are
pre-qualified here, locally (nothing is written upstream), with the rule on the item so that
the board shows "by rule X" and **Annuler** takes it back (`triage.qualify`).

Where an item's tags come from: first its source's list payload (`listed_tags`: Sentry's
`handled`, platform, logger and project; a job's class, queue and error class; Bugsink's
transaction; the demo's payload tags), read at no cost. A tag rule naming a key the list
does not give (Sentry's `transaction`, `url`, `browser`…) makes the sync ask the upstream
(`tag_values`, Sentry's issue tag details), for new items only, when that rule is tried on
the item, and at most TAG_LOOKUPS times a sync; past that, or for a source that cannot read
tags, the item has no such tag and the rule does not take it.
"""

import structlog
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from triage.models import Item, QualificationRule, RuleHit, RuleSubjects
from triage.sources.base import SourceError

logger = structlog.get_logger(__name__)

# Upstream reads of tags the list does not give, per sync: each is one request (Sentry's tag
# details, one per key), made while the sync holds the source.
TAG_LOOKUPS = 50


class SyncRules:
    """The active rules of one source for one sync, loaded once, and what they cost it: the
    tag reads left, the rules whose pattern timed out (left out for the rest of the sync)."""

    def __init__(self, source, backend):
        self.source = source
        self.backend = backend
        # A tuple: a rule that times out is left out by building another, never while an
        # item is being tried on this one.
        self.rules = tuple(QualificationRule.objects.applying_to(source))
        self.lookups_left = TAG_LOOKUPS

    def _lookup(self, external_id):
        if not self.backend.can_read_tags:
            return None

        def read(key):
            if self.lookups_left <= 0:
                if self.lookups_left == 0:
                    logger.warning(
                        "rule_tag_lookups_exhausted", source=self.source.name, limit=TAG_LOOKUPS
                    )
                    self.lookups_left = -1  # said once a sync
                return None
            self.lookups_left -= 1
            try:
                return self.backend.tag_values(external_id, key)
            except SourceError as exc:
                logger.warning(
                    "rule_tag_lookup_failed",
                    source=self.source.name,
                    external_id=str(external_id)[:50],
                    tag=key[:100],
                    error=str(exc)[:200],
                )
                return None

        return read

    def subjects(self, data):
        payload = data.payload if isinstance(data.payload, dict) else {}
        return RuleSubjects(
            data.kind,
            data.title,
            data.origin,
            payload,
            level=data.level,
            tags=self.backend.listed_tags(payload),
            lookup=self._lookup(data.external_id),
        )

    def first_match(self, data):
        """The first rule that takes `data`, or None. A rule whose pattern runs past its time
        takes nothing, is flagged on the rules page and is left out until the next sync."""
        subjects = self.subjects(data)
        for rule in self.rules:
            try:
                if rule.matches(subjects):
                    return rule
            except TimeoutError:
                self._timed_out(rule, data)
        return None

    def _timed_out(self, rule, data):
        logger.warning(
            "rule_regex_timeout",
            source=self.source.name,
            rule=rule.pk,
            rule_name=rule.name,
            external_id=str(data.external_id)[:50],
        )
        self.rules = tuple(other for other in self.rules if other is not rule)
        QualificationRule.objects.filter(pk=rule.pk).update(
            timeouts=F("timeouts") + 1, last_timeout_at=timezone.now()
        )

    def prequalify(self, batch, *, since):
        """Pre-qualify the items of `batch` (ItemData just upserted) that this sync created
        (first mirrored at or after `since`) and that a rule takes: the first that does, in
        `QualificationRuleQuerySet.applying_to` order. Returns how many.

        Queries: one read of the batch's new items, then (when some matched) one update per
        rule that hit and one insert of the hits, in a transaction.
        """
        if not self.rules:
            return 0
        new = dict(
            Item.objects.filter(
                source=self.source,
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
            rule = self.first_match(data)
            if rule is not None:
                chosen.setdefault(rule, []).append(pk)
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
