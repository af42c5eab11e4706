from datetime import datetime, time, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from rotation.models import Absence, Membership, Override, Profile, Shift


class LocalDateTimeField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class OverrideForm(forms.ModelForm):
    """Who covers whom, from when to when, in the team's time zone."""

    start = LocalDateTimeField(label=_("from"))
    end = LocalDateTimeField(label=_("to"))

    class Meta:
        model = Override
        fields = ["membership", "covered", "start", "end", "reason"]

    def __init__(self, *args, team, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.team = team
        self.team, self.actor = team, actor
        members = Membership.objects.filter(team=team).active(team.today()).select_related("user")
        self.fields["membership"].queryset = members
        self.fields["covered"].queryset = Membership.objects.filter(team=team).select_related(
            "user"
        )
        for name in ("membership", "covered"):
            self.fields[name].label_from_instance = lambda m: m.name

    def _localize(self, name):
        value = self.cleaned_data.get(name)
        if value is not None:
            # The browser sends wall-clock time: read it in the team's zone, not the server's.
            value = value.replace(tzinfo=None).replace(tzinfo=self.team.tzinfo)
        return value

    def clean_start(self):
        return self._localize("start")

    def clean_end(self):
        return self._localize("end")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("membership") and cleaned.get("membership") == cleaned.get("covered"):
            raise ValidationError(_("Someone cannot cover for themselves."))
        actor = self.actor
        if actor is not None and not actor.can_manage:
            involved = {cleaned.get("membership"), cleaned.get("covered")}
            if actor not in involved:
                raise ValidationError(
                    _("Members create overrides for themselves only: cover someone, or be covered.")
                )
        return cleaned


class AbsenceForm(forms.ModelForm):
    """Whole local days, first and last included."""

    start = forms.DateField(label=_("first day"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("last day"), widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = Absence
        fields = ["membership", "start", "end", "reason"]

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        self.fields["membership"].label = _("member")
        self.fields["membership"].queryset = (
            Membership.objects.filter(team=team).active(team.today()).select_related("user")
        )
        self.fields["membership"].label_from_instance = lambda m: m.name

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("start"), cleaned.get("end")
        if first and last:
            if last < first:
                raise ValidationError(_("The last day comes before the first day."))
            tz = self.team.tzinfo
            cleaned["start"] = datetime.combine(first, time(0), tzinfo=tz)
            cleaned["end"] = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
            self.instance.start, self.instance.end = cleaned["start"], cleaned["end"]
        return cleaned


class SwapForm(forms.Form):
    first = forms.ModelChoiceField(queryset=Shift.objects.none(), label=_("watch"))
    second = forms.ModelChoiceField(queryset=Shift.objects.none(), label=_("swap with"))

    def __init__(self, *args, team, now, **kwargs):
        super().__init__(*args, **kwargs)
        upcoming = (
            Shift.objects.filter(team=team, start__gt=now)
            .select_related("membership__user")
            .order_by("start")
        )
        for name in ("first", "second"):
            self.fields[name].queryset = upcoming
            self.fields[name].label_from_instance = lambda s, team=team: (
                f"{team.local(s.start):%d/%m/%Y} · {s.membership.name}"
            )


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note for the next vigie (Markdown)"),
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        max_length=20000,
    )


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("from"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("to"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["end"] < cleaned["start"]:
            raise ValidationError(_("The period ends before it starts."))
        return cleaned


class ProfileForm(forms.ModelForm):
    """What the team, the tools and the paging need to reach someone: one profile per person.

    A secret (webhook, routing key) is never sent back to the browser: its field stays empty
    and says what is stored as "••••abcd"; left empty it keeps the stored value, and its
    "remove" box clears it."""

    class Meta:
        model = Profile
        fields = [
            "phone",
            "chat_handle",
            "github_login",
            "ntfy_topic",
            "slack_webhook",
            "pagerduty_routing_key",
        ]
        widgets = {
            name: forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"})
            for name in Profile.SECRETS
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        order = []
        for name in list(self.fields):
            order.append(name)
            if name in Profile.SECRETS:
                self.initial.pop(name, None)
                stored = self.instance.masked(name)
                if stored:
                    self.fields[name].help_text = _("Saved: %(end)s. Leave empty to keep it.") % {
                        "end": stored
                    }
                    self.fields[f"remove_{name}"] = forms.BooleanField(
                        label=_("Remove it"), required=False
                    )
                    order.append(f"remove_{name}")
        self.order_fields(order)

    def clean_github_login(self):
        return self.cleaned_data["github_login"].strip().removeprefix("@")

    def clean(self):
        cleaned = super().clean()
        for name in Profile.SECRETS:
            if cleaned.get(f"remove_{name}"):
                cleaned[name] = ""
            elif not cleaned.get(name) and name not in self.errors:
                cleaned[name] = getattr(self.instance, name)
        return cleaned


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What uses it, e.g. the chat bot.")
    )
