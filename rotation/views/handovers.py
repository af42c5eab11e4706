"""Handovers: the history of ended watches, one handover's note and its acknowledgement."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rotation import handover as registry
from rotation.context_processors import current_watch
from rotation.forms import NoteForm
from rotation.models import Handover, Shift
from rotation.views.common import forbidden, get_team


def show_history(request):
    team = current_watch(request).team
    if team is None:
        return render(request, "rotation/no_team.html")
    return redirect("rotation:team-history", team.slug)


def team_history(request, slug):
    """Read-only for every member of the team."""
    team, _membership = get_team(request, slug)
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
            for key, label in registry.SECTIONS.items()
            if sections.get(key, {}).get("count")
        ]
    return render(request, "rotation/history.html", {"team": team, "page": page})


def write_watch_note(request, slug, pk):
    """The outgoing vigie drafts the handover note during the watch; once it has ended, the
    handover page takes over (the note goes with it, the snapshot is taken then)."""
    team, membership = get_team(request, slug)
    shift = get_object_or_404(
        Shift.objects.select_related("membership__user", "handover"), team=team, pk=pk
    )
    handover = getattr(shift, "handover", None)
    if handover is not None:
        return redirect("rotation:handover", team.slug, handover.pk)
    if not shift.note_writable_by(request.user, membership):
        return forbidden(request, team)
    form = NoteForm(request.POST or None, initial={"note": shift.handover_note})
    if request.method == "POST" and form.is_valid():
        shift.handover_note = form.cleaned_data["note"]
        shift.save(update_fields=["handover_note"])
        messages.success(
            request, _("Draft saved: it goes with the handover at the end of the watch.")
        )
        return redirect("rotation:watch-note", team.slug, shift.pk)
    return render(request, "rotation/watch_note.html", {"team": team, "shift": shift, "form": form})


def show_handover(request, slug, pk):
    team, membership = get_team(request, slug)
    handover = get_object_or_404(
        Handover.objects.select_related(
            "shift__membership__user", "incoming__user", "acknowledged_by"
        ),
        shift__team=team,
        pk=pk,
    )
    can_write = handover.editable_by(request.user, membership)
    form = NoteForm(initial={"note": handover.note})
    if request.method == "POST":
        if not can_write:
            return forbidden(request, team)
        form = NoteForm(request.POST)
        if form.is_valid():
            handover.note = form.cleaned_data["note"]
            handover.note_updated_at = timezone.now()
            handover.save(update_fields=["note", "note_updated_at"])
            messages.success(request, _("Note saved."))
            return redirect("rotation:handover", team.slug, handover.pk)
    sections = [
        {"key": key, "label": label, **handover.snapshot.get("sections", {}).get(key, {})}
        for key, label in registry.SECTIONS.items()
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
            and handover.acknowledgeable_by(request.user, membership),
        },
    )


@require_POST
def acknowledge_handover(request, slug, pk):
    team, membership = get_team(request, slug)
    handover = get_object_or_404(Handover.objects.select_related("shift"), shift__team=team, pk=pk)
    if not handover.acknowledgeable_by(request.user, membership):
        return forbidden(request, team)
    updated = Handover.objects.filter(pk=handover.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=request.user
    )
    if updated:
        messages.success(request, _("Handover acknowledged."))
    return redirect("rotation:handover", team.slug, handover.pk)
