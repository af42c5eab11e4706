"""Login throttling (django-axes): what a locked-out person sees."""

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.utils.translation import gettext as _


def locked_out(request, original_response=None, credentials=None):
    """The login page again, with one clear message instead of the form's error (429)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "Too many failed logins for this account or from this address: logging in is blocked "
        "for %(minutes)s minutes. An administrator can unlock it sooner."
    ) % {"minutes": minutes}
    context = {"form": AuthenticationForm(request), "locked_out": message}
    return render(request, "registration/login.html", context, status=429)
