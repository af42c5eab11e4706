"""Mes vigies: the user's upcoming watches, their profile and their API tokens."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rotation.forms import ApiTokenForm, ProfileForm
from rotation.models import ApiToken, Membership, Override, Profile, Shift
from rotation.views.common import confirm, confirmed_by_post

# The session key holding a just-issued token until the page after the redirect shows it.
NEW_TOKEN_KEY = "rotation:new-api-token"  # noqa: S105 (a session key, not a secret)


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
        return confirm(request, question, reverse("rotation:my-watches") + "#api-tokens")
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
            "now": now,
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
