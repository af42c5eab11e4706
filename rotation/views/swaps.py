"""Swapping two watches: managers swap at once; a member asks, and the other vigie decides."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rotation import services
from rotation.forms import SwapForm
from rotation.models import SwapRequest
from rotation.views.common import forbidden, get_team


def swap_shifts(request, slug):
    team, membership = get_team(request, slug)
    form = SwapForm(request.POST or None, team=team, now=timezone.now())
    if request.method == "POST" and form.is_valid():
        first, second = form.cleaned_data["first"], form.cleaned_data["second"]
        try:
            if team.managed_by(request.user, membership):
                services.swap_shifts(first, second)
                messages.success(request, _("The two watches were swapped."))
            elif first.held_by(membership) or second.held_by(membership):
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
        swap.can_decide = swap.decidable_by(request.user, membership)
    return render(
        request, "rotation/swap_form.html", {"team": team, "form": form, "pending": pending}
    )


@require_POST
def decide_swap(request, slug, pk):
    team, membership = get_team(request, slug)
    swap = get_object_or_404(
        SwapRequest.objects.select_related("first", "second"), team=team, pk=pk
    )
    if not swap.decidable_by(request.user, membership):
        return forbidden(request, team)
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
