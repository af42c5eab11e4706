import csv
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rotation import schedule, services
from rotation.context_processors import current_watch
from rotation.forms import (
    AbsenceForm,
    ApiTokenForm,
    MonthsForm,
    NoteForm,
    OverrideForm,
    PeriodForm,
    ProfileForm,
    SwapForm,
)
from rotation.models import (
    Absence,
    ApiToken,
    Handover,
    Membership,
    Override,
    Profile,
    Shift,
    SwapRequest,
    Team,
)
from rotation.reports import PALETTE_SIZE, fairness_rows, month_grid


def _team(request, slug):
    """The team and the user's membership in it; 404 for anyone outside the team."""
    own = current_watch(request).membership
    if own is not None and own.team.slug == slug:
        # The top bar's badge fetched it already.
        return own.team, own
    team = get_object_or_404(Team, slug=slug)
    membership = (
        Membership.objects.filter(team=team, user=request.user).select_related("user").first()
    )
    if membership is None and not request.user.is_superuser:
        raise Http404(_("Unknown team."))
    return team, membership


def _can_manage(user, membership):
    return user.is_superuser or (membership is not None and membership.can_manage)


def show_calendar(request):
    """The rotation entry of the navigation: the user's own team."""
    team = current_watch(request).team
    if team is None:
        team = Team.objects.first() if request.user.is_superuser else None
    if team is None:
        return render(request, "rotation/no_team.html")
    return redirect("rotation:team-calendar", team.slug)


def team_calendar(request, slug):
    team, membership = _team(request, slug)
    today = team.local(timezone.now()).date()
    window = MonthsForm(request.GET, today=today)
    if not window.is_valid():
        return _bad_request(window)
    first, months = window.cleaned_data["from"], window.cleaned_data["months"]
    members = list(Membership.objects.filter(team=team).select_related("user").order_by("pk"))
    grid = month_grid(team, first, months, members)
    can_manage = _can_manage(request.user, membership)
    overrides = list(
        Override.objects.filter(team=team, end__gt=timezone.now())
        .select_related("membership__user", "covered__user")
        .order_by("start")[:50]
    )
    own = membership.pk if membership is not None else None
    for override in overrides:
        override.removable = can_manage or (
            own is not None and own in (override.membership_id, override.covered_id)
        )
    return render(
        request,
        "rotation/calendar.html",
        {
            "team": team,
            "membership": membership,
            "can_manage": can_manage,
            "overrides": overrides,
            "grid": grid,
            "legend": [
                (m, i % PALETTE_SIZE) for i, m in enumerate(members) if not m.has_left_by(today)
            ],
            "weekdays": [formats.date_format(date(2024, 1, d), "D") for d in range(1, 8)],
            "months": months,
            "previous": _shift_month(first, -months),
            "following": _shift_month(first, months),
            "today": today,
        },
    )


def _bad_request(form):
    """A query the page cannot answer: say which value and why, as plain text."""
    lines = [f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()]
    return HttpResponseBadRequest("\n".join(lines), content_type="text/plain; charset=utf-8")


def _shift_month(first, delta):
    index = first.year * 12 + first.month - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def list_members(request, slug):
    team, membership = _team(request, slug)
    can_manage = _can_manage(request.user, membership)
    now = timezone.now()
    # The team's own related manager: each member's `team` (for `active`) costs no query.
    members = sorted(
        team.memberships.select_related("user__profile").order_by("user__first_name"),
        key=lambda m: not m.active,
    )
    absences = (
        Absence.objects.filter(membership__team=team, end__gt=now)
        .select_related("membership__user")
        .order_by("start")
    )
    form = AbsenceForm(team=team, initial={"membership": membership})
    if request.method == "POST":
        form = AbsenceForm(request.POST, team=team)
        if form.is_valid():
            absence = form.cleaned_data["membership"]
            if not can_manage and absence != membership:
                form.add_error("membership", _("You can only declare your own absences."))
            else:
                form.save()
                result = schedule.generate(team)
                messages.success(
                    request, _("Absence saved; the rotation was regenerated (%s).") % result
                )
                return redirect("rotation:members", team.slug)
    return render(
        request,
        "rotation/members.html",
        {
            "team": team,
            "membership": membership,
            "can_manage": can_manage,
            "members": members,
            "absences": absences,
            "form": form,
        },
    )


def _confirm(request, question, back):
    """The GET of a destructive action: a page whose POST form (same URL) does it."""
    return render(request, "rotation/confirm.html", {"question": question, "back": back})


# Destructive actions: a GET asks for confirmation (works without JavaScript), a POST does it.
confirmed_by_post = require_http_methods(["GET", "POST"])


@confirmed_by_post
def remove_member(request, slug, pk):
    team, membership = _team(request, slug)
    if not _can_manage(request.user, membership):
        return _forbidden(request, team)
    leaving = get_object_or_404(Membership.objects.active(team.today()), team=team, pk=pk)
    if request.method == "GET":
        question = _("Remove %(name)s from the rotation?") % {"name": leaving.name}
        return _confirm(request, question, reverse("rotation:members", args=[team.slug]))
    result = services.leave_team(leaving)
    messages.success(
        request,
        _("%(name)s left the rotation; their watches were handed to others (%(result)s).")
        % {"name": leaving.name, "result": result},
    )
    if result.skipped_slots:
        messages.warning(request, _("Some watches have nobody available: add a member."))
    return redirect("rotation:members", team.slug)


def _forbidden(request, team):
    messages.error(request, _("Only managers and admins change the rotation."))
    return redirect("rotation:team-calendar", team.slug)


def create_override(request, slug):
    team, membership = _team(request, slug)
    if membership is None and not request.user.is_superuser:
        raise Http404
    actor = None if _can_manage(request.user, membership) else membership
    form = OverrideForm(request.POST or None, team=team, actor=actor, user=request.user)
    if request.method == "POST" and form.is_valid():
        override = form.save(commit=False)
        override.created_by = request.user
        override.save()
        messages.success(
            request,
            _("%(name)s covers from %(start)s to %(end)s.")
            % {
                "name": override.membership.name,
                "start": services.format_local(team, override.start),
                "end": services.format_local(team, override.end),
            },
        )
        return redirect("rotation:team-calendar", team.slug)
    return render(request, "rotation/override_form.html", {"team": team, "form": form})


@confirmed_by_post
def delete_override(request, slug, pk):
    team, membership = _team(request, slug)
    override = get_object_or_404(Override, team=team, pk=pk)
    if not _can_manage(request.user, membership) and membership not in (
        override.membership,
        override.covered,
    ):
        return _forbidden(request, team)
    if request.method == "GET":
        question = _("Remove the override of %(name)s from %(start)s to %(end)s?") % {
            "name": override.membership.name,
            "start": services.format_local(team, override.start),
            "end": services.format_local(team, override.end),
        }
        return _confirm(request, question, reverse("rotation:team-calendar", args=[team.slug]))
    override.delete()
    messages.success(request, _("Override removed."))
    return redirect("rotation:team-calendar", team.slug)


def swap_shifts(request, slug):
    """Managers swap two watches at once; a member asks, and the other vigie accepts."""
    team, membership = _team(request, slug)
    can_manage = _can_manage(request.user, membership)
    form = SwapForm(request.POST or None, team=team, now=timezone.now())
    if request.method == "POST" and form.is_valid():
        first, second = form.cleaned_data["first"], form.cleaned_data["second"]
        try:
            if can_manage:
                services.swap_shifts(first, second)
                messages.success(request, _("The two watches were swapped."))
            elif membership in (first.membership, second.membership):
                services.request_swap(first, second, request.user)
                messages.success(request, _("Swap requested: the other vigie has to accept it."))
            else:
                form.add_error(None, _("You can only ask to swap one of your own watches."))
        except services.RotationError as exc:
            form.add_error(None, str(exc))
        if not form.errors:
            return redirect("rotation:swap-shifts", team.slug)
    pending = (
        SwapRequest.objects.filter(team=team, state=SwapRequest.State.PENDING)
        .select_related("first__membership__user", "second__membership__user", "requested_by")
        .order_by("created_at")
    )
    for swap in pending:
        swap.can_decide = can_manage or (
            membership in (swap.first.membership, swap.second.membership)
            and swap.requested_by_id != request.user.pk
        )
    return render(
        request, "rotation/swap_form.html", {"team": team, "form": form, "pending": pending}
    )


@require_POST
def decide_swap(request, slug, pk):
    team, membership = _team(request, slug)
    swap = get_object_or_404(
        SwapRequest.objects.select_related("first", "second"), team=team, pk=pk
    )
    allowed = _can_manage(request.user, membership) or (
        membership is not None
        and membership.pk in (swap.first.membership_id, swap.second.membership_id)
        and swap.requested_by_id != request.user.pk
    )
    if not allowed:
        return _forbidden(request, team)
    accept = request.POST.get("decision") == "accept"
    try:
        services.decide_swap(swap, request.user, accept)
    except services.RotationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("The two watches were swapped.") if accept else _("Swap declined.")
        )
    return redirect("rotation:swap-shifts", team.slug)


@confirmed_by_post
def generate_shifts(request, slug):
    team, membership = _team(request, slug)
    if not _can_manage(request.user, membership):
        return _forbidden(request, team)
    if request.method == "GET":
        back = reverse("rotation:team-calendar", args=[team.slug])
        return _confirm(request, _("Regenerate the future watches?"), back)
    result = schedule.generate(team)
    if result.created == 0 and result.skipped_slots:
        messages.error(request, _("No active member can take a watch: add members first."))
    else:
        messages.success(request, _("Rotation regenerated: %s.") % result)
    return redirect("rotation:team-calendar", team.slug)


@require_POST
def regenerate_feed_token(request, slug):
    team, membership = _team(request, slug)
    if request.POST.get("scope") == "team":
        if not _can_manage(request.user, membership):
            return _forbidden(request, team)
        team.regenerate_feed_token()
    elif membership is not None:
        membership.regenerate_feed_token()
    messages.success(request, _("New feed address created; the old one no longer works."))
    return redirect("rotation:members", team.slug)


def my_watches(request):
    """Upcoming watches, the profile (saved on a POST) and the API tokens."""
    memberships = Membership.objects.filter(user=request.user).select_related("team")
    if request.method == "POST":
        profile = ProfileForm(request.POST, instance=Profile.of(request.user))
        if profile.is_valid():
            profile.save()
            messages.success(request, _("Profile saved."))
            return redirect("rotation:my-watches")
        return _my_watches_page(request, memberships, profile=profile, status=400)
    return _my_watches_page(request, memberships)


# The session key holding a just-issued token until the page after the redirect shows it.
NEW_TOKEN_KEY = "rotation:new-api-token"  # noqa: S105 (a session key, not a secret)


@require_POST
def issue_api_token(request):
    """A new API token, then a redirect: the next page shows it once, from the session."""
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        memberships = Membership.objects.filter(user=request.user).select_related("team")
        return _my_watches_page(request, memberships, token_form=form, status=400)
    _token, secret = ApiToken.objects.issue(request.user, form.cleaned_data["name"])
    request.session[NEW_TOKEN_KEY] = secret
    return redirect(reverse("rotation:my-watches") + "#api-tokens")


@confirmed_by_post
def revoke_api_token(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if request.method == "GET":
        question = _("Revoke the token %(name)s?") % {"name": token.name}
        return _confirm(request, question, reverse("rotation:my-watches") + "#api-tokens")
    ApiToken.objects.filter(pk=token.pk).update(revoked=True)
    messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect(reverse("rotation:my-watches") + "#api-tokens")


def _my_watches_page(request, memberships, *, profile=None, token_form=None, status=200):
    now = timezone.now()
    shifts = (
        Shift.objects.filter(membership__in=memberships, end__gt=now)
        .select_related("team")
        .order_by("start")[:20]
    )
    overrides = (
        Override.objects.filter(membership__in=memberships, end__gt=now)
        .select_related("team", "covered__user")
        .order_by("start")[:20]
    )
    return render(
        request,
        "rotation/my_watches.html",
        {
            "shifts": shifts,
            "overrides": overrides,
            "memberships": memberships,
            "teams": {m.team_id: m.team for m in memberships},
            "profile": profile or ProfileForm(instance=Profile.of(request.user)),
            "tokens": ApiToken.objects.filter(user=request.user),
            "token_form": token_form or ApiTokenForm(),
            # Shown once: popped, so a reload does not show it again.
            "new_token": request.session.pop(NEW_TOKEN_KEY, None),
        },
        status=status,
    )


def show_history(request):
    team = current_watch(request).team
    if team is None:
        return render(request, "rotation/no_team.html")
    return redirect("rotation:team-history", team.slug)


def team_history(request, slug):
    """Read-only for every member of the team."""
    team, _membership = _team(request, slug)
    shifts = (
        Shift.objects.filter(team=team, end__lte=timezone.now())
        .select_related("membership__user", "handover__incoming__user", "handover__acknowledged_by")
        .order_by("-end")
    )
    page = Paginator(shifts, 20).get_page(request.GET.get("page"))
    for shift in page:
        handover = getattr(shift, "handover", None)
        sections = handover.snapshot.get("sections", {}) if handover else {}
        shift.counts = [
            (label, sections[key]["count"])
            for key, label in services.registry.SECTIONS.items()
            if sections.get(key, {}).get("count")
        ]
    return render(request, "rotation/history.html", {"team": team, "page": page})


def show_fairness(request, slug):
    """Read-only for every member of the team."""
    team, _membership = _team(request, slug)
    today = team.local(timezone.now()).date()
    form = PeriodForm(request.GET or {"start": today - timedelta(days=182), "end": today})
    rows = []
    if form.is_valid():
        tz = team.tzinfo
        start = datetime.combine(form.cleaned_data["start"], time(0), tzinfo=tz)
        end = datetime.combine(form.cleaned_data["end"] + timedelta(days=1), time(0), tzinfo=tz)
        rows = fairness_rows(team, start, end)
        if request.GET.get("format") == "csv":
            return _fairness_csv(team, form.cleaned_data, rows)
    status = 400 if form.errors else 200
    context = {"team": team, "form": form, "rows": rows}
    return render(request, "rotation/fairness.html", context, status=status)


def _fairness_csv(team, period, rows):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="vigie-{team.slug}-{period["start"]}-{period["end"]}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(
        ["member", "watches", "days", "weekend_days", "days_covered_for_others", "items_handled"]
    )
    for row in rows:
        writer.writerow(
            [
                _csv_safe(row.name),
                row.watches,
                f"{row.days:.2f}",
                f"{row.weekend_days:.2f}",
                f"{row.covered_days:.2f}",
                row.items,
            ]
        )
    return response


def _csv_safe(value):
    # A name starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def show_handover(request, slug, pk):
    team, membership = _team(request, slug)
    handover = get_object_or_404(
        Handover.objects.select_related(
            "shift__membership__user", "incoming__user", "acknowledged_by"
        ),
        shift__team=team,
        pk=pk,
    )
    outgoing = handover.shift.membership
    can_write = membership == outgoing or _can_manage(request.user, membership)
    form = NoteForm(initial={"note": handover.note})
    if request.method == "POST":
        if not can_write:
            return _forbidden(request, team)
        form = NoteForm(request.POST)
        if form.is_valid():
            handover.note = form.cleaned_data["note"]
            handover.note_updated_at = timezone.now()
            handover.save(update_fields=["note", "note_updated_at"])
            messages.success(request, _("Note saved."))
            return redirect("rotation:handover", team.slug, handover.pk)
    sections = [
        {"key": key, "label": label, **handover.snapshot.get("sections", {}).get(key, {})}
        for key, label in services.registry.SECTIONS.items()
    ]
    return render(
        request,
        "rotation/handover.html",
        {
            "team": team,
            "handover": handover,
            "note_html": mark_safe(handover.note_html),  # noqa: S308 (sanitised by nh3)
            "sections": sections,
            "form": form,
            "can_write": can_write,
            "can_acknowledge": handover.acknowledged_at is None
            and (membership == handover.incoming or _can_manage(request.user, membership)),
        },
    )


@require_POST
def acknowledge_handover(request, slug, pk):
    team, membership = _team(request, slug)
    handover = get_object_or_404(Handover, shift__team=team, pk=pk)
    if membership != handover.incoming and not _can_manage(request.user, membership):
        return _forbidden(request, team)
    updated = Handover.objects.filter(pk=handover.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=request.user
    )
    if updated:
        messages.success(request, _("Handover acknowledged."))
    return redirect("rotation:handover", team.slug, handover.pk)


def home_panel(request):
    """The home page's "who is on watch" panel and the team's escalation chain."""
    watch = current_watch(request)
    if watch.team is None:
        return None
    escalation = watch.team.escalation_levels.select_related("membership__user__profile").order_by(
        "order"
    )
    return {"state": watch.state, "team": watch.team, "escalation": escalation}
