import hashlib
import secrets
import zoneinfo
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vigie.markdown import safe_markdown
from vigie.validators import receiver_url

# How far ahead the rotation is generated.
HORIZON = timedelta(days=183)


def default_escalation():
    """Seed 004's chain for a new team, its delays from the settings."""
    return [
        (1, "Vigie", "vigie", 0),
        (2, "Tech lead", "member", settings.ESCALATION_L2_DELAY_MINUTES),
        (3, "CTO", "member", settings.ESCALATION_L3_DELAY_MINUTES),
    ]


def new_token():
    return secrets.token_urlsafe(24)


def validate_timezone(value):
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("Unknown time zone: %(tz)s"), params={"tz": value}) from None


class Team(models.Model):
    slug = models.SlugField(_("slug"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Paris", validators=[validate_timezone]
    )
    watch_length_days = models.PositiveSmallIntegerField(_("watch length (days)"), default=14)
    handover_weekday = models.PositiveSmallIntegerField(
        _("handover weekday"),
        default=0,
        choices=[
            (0, _("Monday")),
            (1, _("Tuesday")),
            (2, _("Wednesday")),
            (3, _("Thursday")),
            (4, _("Friday")),
            (5, _("Saturday")),
            (6, _("Sunday")),
        ],
    )
    handover_time = models.TimeField(_("handover time"), default=time(10, 0))
    # The "Attendu" qualification's default threshold (seed 000: not more than 10 times a week).
    expected_ignore_count = models.PositiveIntegerField(_("expected: ignore count"), default=10)
    expected_ignore_window = models.PositiveIntegerField(
        _("expected: ignore window (minutes)"), default=10080
    )
    # The team's iCalendar feed; regenerating it revokes the old URL.
    feed_token = models.CharField(_("feed token"), max_length=64, default=new_token, unique=True)
    share_board = models.BooleanField(
        _("share its board"),
        default=False,
        help_text=_("Members of every team see this team's sources and items on the board."),
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding:
            # Seed 004's chain; managers name the tech lead and the CTO in the admin.
            EscalationLevel.objects.bulk_create(
                EscalationLevel(team=self, order=order, label=label, who=who, delay_minutes=delay)
                for order, label, who, delay in default_escalation()
            )

    @property
    def tzinfo(self):
        return zoneinfo.ZoneInfo(self.timezone)

    def local(self, at):
        return timezone.localtime(at, self.tzinfo)

    def today(self, at=None):
        """The team's local calendar day at `at` (now by default)."""
        return self.local(at or timezone.now()).date()

    def handover_at(self, day):
        """The handover instant on a local calendar day, in UTC.

        Built from the wall clock of that day, so it stays at 10:00 local across DST changes.
        """
        local = datetime.combine(day, self.handover_time, tzinfo=self.tzinfo)
        return local.astimezone(zoneinfo.ZoneInfo("UTC"))

    def last_handover_before(self, at):
        """The latest handover moment (handover weekday and time) at or before `at`."""
        day = self.local(at).date()
        day -= timedelta(days=(day.weekday() - self.handover_weekday) % 7)
        if self.handover_at(day) > at:
            day -= timedelta(days=7)
        return self.handover_at(day)

    def watch_end(self, start):
        """Where a watch starting at `start` (a handover moment) ends: N local days later."""
        day = self.local(start).date() + timedelta(days=self.watch_length_days)
        return self.handover_at(day)

    def regenerate_feed_token(self):
        self.feed_token = new_token()
        self.save(update_fields=["feed_token"])

    def managed_by(self, user, membership):
        """May `user` change this team's rotation? `membership` is theirs in it, or None.

        The permission rules below all take the user's membership as the views already have it,
        so that asking costs no query."""
        return _manages(user, membership, self.pk)

    def escalation_chain(self, at):
        """Who each escalation level reaches at `at`, as JSON to freeze on an incident.

        `[{"order", "label", "delay_minutes", "user_id", "name", "phone", "chat_handle"}]`:
        the vigie level is whoever is effectively on watch at `at` (an override included); a
        named member who has left by then, or a level with nobody, has `user_id` None and
        empty strings. Three queries: the levels with their members, then who is on watch.
        """
        from rotation.schedule import on_watch

        levels = list(
            self.escalation_levels.select_related("membership__user__profile").order_by("order")
        )
        vigie = None
        if any(level.is_vigie for level in levels):
            now = on_watch(self, at).now
            vigie = now.membership if now else None
        today = self.today(at)
        chain = []
        for level in levels:
            member = vigie if level.is_vigie else level.membership
            if member is not None and member.has_left_by(today):
                member = None
            profile = member.profile if member else None
            chain.append(
                {
                    "order": level.order,
                    "label": level.label,
                    "delay_minutes": level.delay_minutes,
                    "user_id": member.user_id if member else None,
                    "name": member.name if member else "",
                    "phone": profile.phone if profile else "",
                    "chat_handle": profile.chat_handle if profile else "",
                }
            )
        return chain


# GitHub's own rule: letters, digits and single hyphens inside, at most 39 characters.
GITHUB_LOGIN = RegexValidator(
    r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$",
    _("Not a GitHub login: letters, digits and single hyphens inside, at most 39 characters."),
)


def display_name(user):
    return user.get_full_name() or user.get_username()


class Profile(models.Model):
    """One person's contacts: shown to the team on watch, used by the tools and to page them.

    One per user, whatever the number of teams; `Profile.of(user)` returns it (created empty
    the first time). The Slack/Mattermost webhook and the PagerDuty routing key are secrets:
    whoever has them posts or pages in that person's name, so they are never shown back."""

    SECRETS = ("slack_webhook", "pagerduty_routing_key")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    chat_handle = models.CharField(_("chat handle"), max_length=100, blank=True)
    github_login = models.CharField(
        _("GitHub login"),
        max_length=100,
        blank=True,
        validators=[GITHUB_LOGIN],
        help_text=_("Who GitHub assigns when you take a small request."),
    )
    # Accounts on the tools that assign work to a person, by key ("sentry": "marie@example.org"):
    # the apps declare which (rotation.forms.register_accounts), so a new tool needs no column.
    accounts = models.JSONField(_("accounts on other tools"), default=dict, blank=True)
    ntfy_topic = models.URLField(
        _("ntfy topic"),
        max_length=300,
        validators=[receiver_url],
        blank=True,
        help_text=_("The server and the topic, e.g. https://ntfy.sh/my-secret-topic."),
    )
    slack_webhook = models.URLField(
        _("Slack or Mattermost webhook"),
        max_length=500,
        validators=[receiver_url],
        blank=True,
        help_text=_("An incoming webhook posting to you directly."),
    )
    pagerduty_routing_key = models.CharField(
        _("PagerDuty routing key"),
        max_length=64,
        blank=True,
        help_text=_("The integration key of an Events API v2 service that pages you."),
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self):
        return display_name(self.user)

    @classmethod
    def of(cls, user):
        """The user's profile: the one already fetched (select_related), else read or created."""
        try:
            return user.profile
        except cls.DoesNotExist:
            profile, _created = cls.objects.get_or_create(user=user)
            user.profile = profile
            return profile

    def account(self, key):
        """The person's account on the tool `key` names, or ""."""
        return str((self.accounts or {}).get(key) or "")

    def masked(self, name):
        """A secret field as it may be shown: its last four characters only."""
        value = getattr(self, name)
        return f"••••{value[-4:]}" if value else ""

    def destinations(self):
        """Where to page this person: their email always, then each personal contact set."""
        from vigie.notify import Destination

        name = display_name(self.user)
        found = []
        if self.user.email:
            found.append(Destination("email", {"to": self.user.email}, f"{name} · {_('email')}"))
        if self.ntfy_topic:
            found.append(Destination("ntfy", {"url": self.ntfy_topic}, f"{name} · ntfy"))
        if self.slack_webhook:
            found.append(Destination("slack", {"url": self.slack_webhook}, f"{name} · Slack"))
        if self.pagerduty_routing_key:
            found.append(
                Destination(
                    "pagerduty",
                    {"routing_key": self.pagerduty_routing_key},
                    f"{name} · PagerDuty",
                )
            )
        return found


def still_member_on(day):
    """The rule of `Membership.active` in SQL: `left_on` is the first local day without them."""
    return Q(left_on__isnull=True) | Q(left_on__gt=day)


class MembershipQuerySet(models.QuerySet):
    def active(self, on):
        """Memberships that have not ended by the local day `on` (see `Membership.active`)."""
        return self.filter(still_member_on(on))


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", _("member")
        MANAGER = "manager", _("manager")
        ADMIN = "admin", _("admin")

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("team")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role, default=Role.MEMBER)
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    # The first local day the member is no longer in the team (today when removed, or a
    # planned departure); empty while they stay.
    left_on = models.DateField(_("left on"), null=True, blank=True)
    # A newcomer starts level with the least loaded member instead of owing the team every
    # watch it did before they joined (set once, when they first enter the rotation).
    watch_credit = models.DurationField(_("watch credit"), null=True, blank=True, editable=False)
    feed_token = models.CharField(_("feed token"), max_length=64, default=new_token, unique=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="unique_membership"),
        ]

    def __str__(self):
        return f"{self.user} @ {self.team}"

    @property
    def can_manage(self):
        return self.role in (self.Role.MANAGER, self.Role.ADMIN)

    @property
    def name(self):
        return display_name(self.user)

    @property
    def short_name(self):
        return self.user.first_name or self.name

    @property
    def profile(self):
        """The member's contacts (one profile per person, shared by all their teams)."""
        return Profile.of(self.user)

    def has_left_by(self, day):
        """True from the local day `left_on` on (the same rule as `still_member_on`)."""
        return self.left_on is not None and self.left_on <= day

    @property
    def active(self):
        """Still in the team today, in the team's time zone."""
        return not self.has_left_by(self.team.today())

    def in_rotation_on(self, day):
        """Already joined and not yet gone on that local day."""
        return (self.joined_on is None or self.joined_on <= day) and not self.has_left_by(day)

    def regenerate_feed_token(self):
        self.feed_token = new_token()
        self.save(update_fields=["feed_token"])


def _is(membership, *membership_ids):
    """Is `membership` (possibly None) one of these (possibly null) memberships?"""
    return membership is not None and membership.pk in membership_ids


def _manages(user, membership, team_id):
    """`Team.managed_by` from the team's id: the rules of rows that only hold it ask no query."""
    if user.is_superuser:
        return True
    return membership is not None and membership.team_id == team_id and membership.can_manage


class IntervalQuerySet(models.QuerySet):
    """Rows with a half-open `[start, end)` interval in UTC."""

    def covering(self, at):
        return self.filter(start__lte=at, end__gt=at)

    def overlapping(self, start, end):
        return self.filter(start__lt=end, end__gt=start)


class Absence(models.Model):
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="absences", verbose_name=_("member")
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("to"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    objects = IntervalQuerySet.as_manager()

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="absence_ends_after_start")
        ]

    def __str__(self):
        return f"{self.membership} {self.start:%Y-%m-%d}→{self.end:%Y-%m-%d}"

    def clean(self):
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("An absence must end after it starts.")})

    def declarable_by(self, user, membership):
        """A member declares their own absences; managers declare anyone's."""
        return _is(membership, self.membership_id) or _manages(
            user, membership, self.membership.team_id
        )


class Shift(models.Model):
    """A regular watch: one member is the vigie over `[start, end)`."""

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="shifts", verbose_name=_("team")
    )
    # RESTRICT: a member with watches stays (history); deleting the whole team still works.
    membership = models.ForeignKey(
        Membership, on_delete=models.RESTRICT, related_name="shifts", verbose_name=_("member")
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    # Set by a swap: the daily regeneration keeps it where a person put it.
    locked = models.BooleanField(_("locked"), default=False)
    # The outgoing vigie's note, drafted during the watch; the handover starts from it.
    handover_note = models.TextField(_("handover note draft"), blank=True)

    objects = IntervalQuerySet.as_manager()

    class Meta:
        verbose_name = _("watch")
        verbose_name_plural = _("watches")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="shift_ends_after_start"),
            models.UniqueConstraint(fields=["team", "start"], name="unique_shift_start"),
        ]
        indexes = [models.Index(fields=["team", "end"])]

    def __str__(self):
        return f"{self.membership.name} {self.start:%Y-%m-%d}"

    @property
    def duration(self):
        return self.end - self.start

    def held_by(self, membership):
        return _is(membership, self.membership_id)

    def note_writable_by(self, user, membership):
        """Its vigie drafts the handover note during the watch; managers may too."""
        return self.held_by(membership) or _manages(user, membership, self.team_id)


class Override(models.Model):
    """Someone covers part or all of another's watch; it beats the regular shift."""

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="overrides", verbose_name=_("team")
    )
    membership = models.ForeignKey(
        Membership,
        on_delete=models.RESTRICT,
        related_name="overrides",
        verbose_name=_("covered by"),
    )
    covered = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="covered_overrides",
        verbose_name=_("covering for"),
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("to"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Set when a manager deliberately rewrites the past (an override that has already ended).
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("past corrected by"),
    )
    corrected_at = models.DateTimeField(_("past corrected at"), null=True, blank=True)
    # Set when the generation gave this stretch away because its vigie is absent then: the
    # next generation rebuilds it, and deleting the absence deletes it.
    absence = models.ForeignKey(
        Absence,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="overrides",
        verbose_name=_("for the absence"),
        editable=False,
    )

    objects = IntervalQuerySet.as_manager()

    class Meta:
        verbose_name = _("override")
        verbose_name_plural = _("overrides")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="override_ends_after_start"
            )
        ]

    def __str__(self):
        return f"{self.membership.name} {self.start:%Y-%m-%d %H:%M}"

    def removable_by(self, user, membership):
        """Its two parties (who covers, who is covered) and the team's managers."""
        return _is(membership, self.membership_id, self.covered_id) or _manages(
            user, membership, self.team_id
        )

    def clean(self):
        if self.start is None or self.end is None:
            return
        if self.end <= self.start:
            raise ValidationError({"end": _("An override must end after it starts.")})
        if self.end <= timezone.now() and self.corrected_at is None:
            # It would silently rewrite watches that already happened (fairness, iCal feed).
            raise ValidationError(
                {"end": _("This override ends in the past: only a manager can correct the past.")}
            )
        if self.membership_id and self.membership.has_left_by(self.team.today()):
            raise ValidationError(
                _("%(name)s is no longer active."), params={"name": self.membership.name}
            )
        clash = (
            Override.objects.filter(team_id=self.team_id)
            .overlapping(self.start, self.end)
            .exclude(pk=self.pk)
            .select_related("membership__user")
            .first()
        )
        if clash:
            raise ValidationError(
                _("It overlaps the override of %(name)s from %(start)s to %(end)s."),
                params={
                    "name": clash.membership.name,
                    "start": self.team.local(clash.start).strftime("%d/%m/%Y %H:%M"),
                    "end": self.team.local(clash.end).strftime("%d/%m/%Y %H:%M"),
                },
            )
        self._check_covered()

    def _check_covered(self):
        """Who is covered comes from the schedule: the regular vigie of every watch it cuts.

        Left empty, it is filled from the schedule (an override over a hole covers nobody);
        someone who is not that vigie, or an override across two vigies' watches, is refused."""
        vigies = {
            shift.membership_id: shift.membership
            for shift in Shift.objects.filter(team_id=self.team_id)
            .overlapping(self.start, self.end)
            .select_related("membership__user")
        }
        if self.covered_id is None and len(vigies) > 1:
            raise ValidationError(
                _("This stretch spans the watches of %(names)s: create one override for each."),
                params={"names": ", ".join(sorted(m.name for m in vigies.values()))},
            )
        if self.covered_id is None and vigies:
            self.covered = next(iter(vigies.values()))
        if self.covered_id is not None and self.covered_id == self.membership_id:
            raise ValidationError(_("Someone cannot cover for themselves."))
        if self.covered_id is not None and set(vigies) != {self.covered_id}:
            others = sorted(m.name for pk, m in vigies.items() if pk != self.covered_id)
            raise ValidationError(
                {
                    "covered": ValidationError(
                        _("%(name)s is not the vigie all along (on watch then: %(vigies)s)."),
                        params={
                            "name": self.covered.name,
                            "vigies": ", ".join(others) or _("nobody"),
                        },
                    )
                }
            )


class EscalationLevel(models.Model):
    """Who to call when the level before did not answer within its delay (seed 004)."""

    class Who(models.TextChoices):
        VIGIE = "vigie", _("the vigie on watch")
        MEMBER = "member", _("a named member")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="escalation_levels")
    order = models.PositiveSmallIntegerField(_("level"))
    label = models.CharField(_("label"), max_length=100)
    who = models.CharField(_("who"), max_length=10, choices=Who, default=Who.MEMBER)
    membership = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("For a named member; empty until someone is chosen."),
    )
    delay_minutes = models.PositiveIntegerField(_("delay (minutes)"), default=0)

    class Meta:
        verbose_name = _("escalation level")
        verbose_name_plural = _("escalation levels")
        ordering = ["team", "order"]
        constraints = [
            models.UniqueConstraint(fields=["team", "order"], name="unique_escalation_order")
        ]

    def __str__(self):
        return f"L{self.order} {self.label}"

    @property
    def is_vigie(self):
        return self.who == self.Who.VIGIE


class Handover(models.Model):
    """The end of a watch: a frozen snapshot, the outgoing note, the incoming acknowledgement."""

    shift = models.OneToOneField(Shift, on_delete=models.CASCADE, related_name="handover")
    incoming = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("incoming"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    snapshot = models.JSONField(_("snapshot"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    note_updated_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        ordering = ["-shift__end"]

    def __str__(self):
        return f"{self.shift}"

    @property
    def note_html(self):
        """The note as HTML: Markdown rendered, then sanitised (it is user-written)."""
        return safe_markdown(self.note)

    def editable_by(self, user, membership):
        """The outgoing vigie writes the note; managers may complete it."""
        return _is(membership, self.shift.membership_id) or _manages(
            user, membership, self.shift.team_id
        )

    def acknowledgeable_by(self, user, membership):
        """The incoming vigie acknowledges; a manager may do it for them."""
        return _is(membership, self.incoming_id) or _manages(user, membership, self.shift.team_id)

    @property
    def note_text(self):
        """The note as plain text, Markdown marks removed: for one-line excerpts."""
        import html

        from django.utils.html import strip_tags

        return html.unescape(strip_tags(self.note_html)).strip()

    @property
    def acknowledgement_delay(self):
        if self.acknowledged_at is None:
            return None
        return self.acknowledged_at - self.created_at


def token_digest(token):
    """What is stored of an API token: a leaked database does not give working tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def issue(self, user, name):
        """A new token for `user`: returns (ApiToken, the token itself, shown this once)."""
        token = f"vigie_{secrets.token_urlsafe(32)}"
        return self.create(user=user, name=name, key=token_digest(token), hint=token[-4:]), token

    def matching(self, token):
        return self.filter(key=token_digest(token), revoked=False)


class ApiToken(models.Model):
    """A bearer token for scripts reading the JSON API as a user."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    # SHA-256 of the token; the token is shown once, when it is issued.
    key = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(_("ends with"), max_length=4, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked = models.BooleanField(_("revoked"), default=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self):
        return self.name


class SwapRequest(models.Model):
    """A member asks to exchange two watches; the other vigie or a manager accepts it."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        ACCEPTED = "accepted", _("accepted")
        DECLINED = "declined", _("declined")
        # Its watches were given back to the rotation (one of the two vigies left).
        CANCELLED = "cancelled", _("cancelled")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="swap_requests")
    # SET_NULL: a decided or cancelled request stays on record when its watches are regenerated.
    first = models.ForeignKey(Shift, on_delete=models.SET_NULL, null=True, related_name="+")
    second = models.ForeignKey(Shift, on_delete=models.SET_NULL, null=True, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("swap request")
        verbose_name_plural = _("swap requests")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.first} ⇄ {self.second}"

    def decidable_by(self, user, membership):
        """The other vigie of the two watches (not the one who asked), or a manager."""
        other_party = (
            _is(membership, self.first.membership_id, self.second.membership_id)
            and self.requested_by_id != user.pk
        )
        return other_party or _manages(user, membership, self.team_id)
