"""Local qualification rules at work in the sync: the new items that match a rule are
pre-qualified here, locally (nothing is written upstream), with the rule on the item so that
the board shows "by rule X" and **Annuler** takes it back (`triage.qualify`).

Where an item's tags come from: first its source's list payload (`listed_tags`: Sentry's
`handled`, platform, logger and project; a job's class, queue and error class; Bugsink's
transaction; the demo's payload tags), read at no cost. A tag rule naming a key the list
does not give (Sentry's `transaction`, `url`, `browser`…) makes the sync ask the upstream
(`tag_values`, Sentry's issue tag details), for new items only, when that rule is tried on
the item, and at most TAG_LOOKUPS times a sync. An item whose read was refused (past the cap)
or failed is left unqualified and marked (`Item.rules_pending`): the next syncs try the rules
on it again, with the reads they have left, until every tag they needed was read. A source
that cannot read tags gives none: the rule does not take its items.
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
        # The items a tag read was refused or failed for, in this sync: to be tried again.
        self.unread = set()

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
                self.unread.add(external_id)
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
                self.unread.add(external_id)
                return None

        return read

    def subjects(self, data):
        """`data`: an ItemData, or an Item (the same fields) when tried again."""
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
        rule that hit and one insert of the hits, in a transaction; one more when a tag could
        not be read for some (marked, to be tried again).
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
        tried = [(pk, data) for data in batch if (pk := new.pop(data.external_id, None))]
        return self._qualify(tried, again=False)

    def retry(self):
        """Try the rules again on the items an earlier sync could not read a tag of, as many
        as this sync has tag reads left. Returns how many a rule took."""
        if not self.rules or self.lookups_left <= 0:
            return 0
        pending = (
            Item.objects.filter(source=self.source, rules_pending=True)
            .filter(qualification="", rule__isnull=True)
            .exclude(external_id__in=self.unread)  # a read that failed now: at the next sync
            .order_by("mirrored_at", "pk")[: self.lookups_left]
        )
        return self._qualify([(item.pk, item) for item in pending], again=True)

    def _qualify(self, tried, *, again):
        """Pre-qualify what a rule takes among `tried` ((pk, ItemData or Item) pairs); mark
        those a tag read failed for, and (`again`) unmark the others."""
        chosen = {}
        unread = []
        for pk, data in tried:
            rule = self.first_match(data)
            if rule is not None:
                chosen.setdefault(rule, []).append(pk)
            elif data.external_id in self.unread:
                unread.append(pk)
        if unread and not again:
            Item.objects.filter(pk__in=unread).update(rules_pending=True)
        if again:
            done = [pk for pk, _data in tried if pk not in unread]
            Item.objects.filter(pk__in=done).update(rules_pending=False)
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
