from datetime import date, datetime, time, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from rotation.models import Absence, Membership, Override, Profile, Shift

# Dates the rotation pages accept: far enough for any real question, and far from the ends of
# the calendar, where a time zone shift leaves the range Python and the databases can store.
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
LONGEST_PERIOD = timedelta(days=10 * 366)


class IsoDateInput(forms.DateInput):
    """type=date wants ISO values, whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class BoundedDateField(forms.DateField):
    widget = IsoDateInput

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators += [MinValueValidator(EARLIEST), MaxValueValidator(LATEST)]


class LocalDateTimeField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class OverrideForm(forms.ModelForm):
    """Who covers whom, from when to when, in the team's time zone."""

    start = LocalDateTimeField(label=capfirst(_("from")))
    end = LocalDateTimeField(label=capfirst(_("to")))
    correct_past = forms.BooleanField(
        label=_("Correct the past"),
        required=False,
        help_text=_("Managers only: record an override that has already ended."),
    )

    class Meta:
        model = Override
        fields = ["membership", "covered", "start", "end", "reason"]

    def __init__(self, *args, team, actor, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.team = team
        self.team, self.actor, self.user = team, actor, user
        if actor is not None:
            # Only managers may rewrite the past.
            del self.fields["correct_past"]
        members = Membership.objects.filter(team=team).active(team.today()).select_related("user")
        self.fields["membership"].queryset = members
        self.fields["covered"].queryset = Membership.objects.filter(team=team).select_related(
            "user"
        )
        for name in ("membership", "covered"):
            self.fields[name].label_from_instance = lambda m: m.name
        self.fields["covered"].help_text = _("Left empty: the vigie of that time, by the rotation.")

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
        actor = self.actor
        if actor is not None and not actor.can_manage:
            involved = {cleaned.get("membership"), cleaned.get("covered")}
            if actor not in involved:
                raise ValidationError(
                    _("Members create overrides for themselves only: cover someone, or be covered.")
                )
        if cleaned.get("correct_past"):
            # Recorded on the override; the model accepts an ended override only then.
            self.instance.corrected_by = self.user
            self.instance.corrected_at = timezone.now()
        return cleaned


class AbsenceForm(forms.ModelForm):
    """Whole local days, first and last included."""

    start = BoundedDateField(label=capfirst(_("first day")))
    end = BoundedDateField(label=capfirst(_("last day")))

    class Meta:
        model = Absence
        fields = ["membership", "start", "end", "reason"]

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        self.fields["membership"].label = capfirst(_("member"))
        self.fields["membership"].queryset = (
            Membership.objects.filter(team=team).active(team.today()).select_related("user")
        )
        self.fields["membership"].label_from_instance = lambda m: m.name

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("start"), cleaned.get("end")
        if first and last:
            tz = self.team.tzinfo
            cleaned["start"] = datetime.combine(first, time(0), tzinfo=tz)
            cleaned["end"] = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
            if last < first:
                # On the field, so that the model's own check is not reported as well.
                self.add_error("end", _("The last day comes before the first day."))
            else:
                self.instance.start, self.instance.end = cleaned["start"], cleaned["end"]
        return cleaned


class SwapForm(forms.Form):
    first = forms.ModelChoiceField(queryset=Shift.objects.none(), label=capfirst(_("watch")))
    second = forms.ModelChoiceField(queryset=Shift.objects.none(), label=capfirst(_("swap with")))

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
        max_length=20000,
        error_messages={"required": _("Write something for the next vigie: the note is empty.")},
    )


class PeriodForm(forms.Form):
    start = BoundedDateField(label=capfirst(_("from")))
    end = BoundedDateField(label=capfirst(_("to")))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end"):
            if cleaned["end"] < cleaned["start"]:
                raise ValidationError(_("The period ends before it starts."))
            if cleaned["end"] - cleaned["start"] > LONGEST_PERIOD:
                raise ValidationError(_("Choose a period of ten years at most."))
        return cleaned


class MonthsForm(forms.Form):
    """Which months the calendar shows: ?from=YYYY-MM (default this month) &months=1..12."""

    months = forms.IntegerField(min_value=1, max_value=12, required=False)

    def __init__(self, data, *, today):
        super().__init__(data)
        self.today = today
        self.fields["from"] = forms.CharField(required=False, max_length=7)

    def clean_from(self):
        value = self.cleaned_data["from"]
        if not value:
            return self.today.replace(day=1)
        try:
            first = date.fromisoformat(value + "-01")
        except ValueError:
            raise ValidationError(_("Give the first month as YYYY-MM.")) from None
        if not EARLIEST <= first <= LATEST.replace(day=1, month=1):
            raise ValidationError(_("Choose a month between 1900 and 2998."))
        return first

    def clean_months(self):
        return self.cleaned_data["months"] or 3


# The accounts a profile keeps on other tools (Profile.accounts): the apps that assign work to
# one register, in their AppConfig.ready(), a provider and a check (callables or dotted paths).
# The provider returns what to ask for, each with a `key`, a `label` and a `help_text`; the
# check takes `(user, key, value)` and raises ValidationError (triage asks Sentry whether the
# "Compte Sentry" exists). Asked when the form is built: the tools are known by then.
ACCOUNT_PROVIDERS = []


def register_accounts(provider, check):
    ACCOUNT_PROVIDERS.append((provider, check))


def _loaded(function):
    return import_string(function) if isinstance(function, str) else function


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
        # Field name -> (its account's key, the check of its value).
        self.accounts = {}
        for provider, check in ACCOUNT_PROVIDERS:
            for account in _loaded(provider)():
                name = f"{account.key}_account"
                self.accounts[name] = (account.key, _loaded(check))
                self.fields[name] = forms.CharField(
                    label=account.label,
                    help_text=account.help_text,
                    max_length=200,
                    required=False,
                    initial=self.instance.account(account.key),
                )
        order = []
        for name in [name for name in self.fields if name not in self.accounts]:
            order.append(name)
            if name == "github_login":  # the other tools' accounts come with GitHub's
                order += self.accounts
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
        for name, (key, check) in self.accounts.items():
            account = cleaned.get(name)  # stripped by the field
            if account and account != self.instance.account(key):
                try:
                    check(self.instance.user, key, account)
                except ValidationError as error:
                    self.add_error(name, error)
        for name in Profile.SECRETS:
            if cleaned.get(f"remove_{name}"):
                cleaned[name] = ""
            elif not cleaned.get(name) and name not in self.errors:
                cleaned[name] = getattr(self.instance, name)
        return cleaned

    def save(self, commit=True):
        typed = {key: self.cleaned_data[name] for name, (key, _check) in self.accounts.items()}
        accounts = {**self.instance.accounts, **typed}
        self.instance.accounts = {key: value for key, value in accounts.items() if value}
        return super().save(commit)


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What uses it, e.g. the chat bot.")
    )
