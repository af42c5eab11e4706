import re

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from triage.models import Action, Item, Release, Source, SyncRun
from triage.sources import REGISTRY, backend_class
from vigie.validators import BAD_CHARACTERS_MESSAGE, has_bad_characters


class ListInput(forms.CharField):
    """A list a person types: one entry per line, or separated by commas."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        return "\n".join(str(entry) for entry in value) if isinstance(value, list) else value

    def to_python(self, value):
        text = super().to_python(value)
        if has_bad_characters(text):
            raise ValidationError(BAD_CHARACTERS_MESSAGE)
        entries = (entry.strip() for entry in re.split(r"[\n,]", text))
        return list(dict.fromkeys(entry for entry in entries if entry))


class TypedURLField(forms.URLField):
    """A URL as typed: one without its scheme is refused rather than completed with https
    (a self-hosted tracker on http://127.0.0.1:9000 is not at https://127.0.0.1:9000)."""

    def to_python(self, value):
        text = super(forms.URLField, self).to_python(value)  # CharField's: stripped text
        if text and "://" not in text:
            raise ValidationError(
                _("Give the whole address, starting with https:// or http://."), code="invalid"
            )
        return super().to_python(text)


class SourceForm(forms.ModelForm):
    # Named and explained by the kind's backend (SourceAdmin.get_form).
    scopes = ListInput(required=False)
    # Write-only: the stored token is never sent back to a browser; blank keeps it. What was
    # typed in this very form comes back when another field is refused, so it is not lost.
    secret = forms.CharField(
        label=_("new stored token"),
        required=False,
        widget=forms.PasswordInput(render_value=True),
        help_text=_(
            "Used when no environment variable is named. Never shown back: leave blank to keep "
            "the current one."
        ),
    )
    clear_secret = forms.BooleanField(label=_("forget the stored token"), required=False)

    class Meta:
        model = Source
        fields = [
            "kind",
            "name",
            "team",
            "enabled",
            "sync_interval_minutes",
            "base_url",
            "organization",
            "scopes",
            "environment",
            "secret_env",
            "secret",
            "github_repository",
        ]
        field_classes = {"base_url": TypedURLField}

    # The kind's settings kept in Source.options (its backend's option_fields), set by
    # SourceAdmin.get_form.
    option_names = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.pop("secret", None)  # the stored one: never rendered
        for name in self.option_names:
            if name in self.instance.options:
                self.initial[name] = self.instance.options[name]

    def clean_secret(self):
        return self.cleaned_data["secret"] or (self.instance.secret if self.instance.pk else "")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("clear_secret"):
            cleaned["secret"] = ""
        # Set before the model's clean(), which checks them with the backend.
        typed = {name: cleaned[name] for name in self.option_names if name in cleaned}
        self.instance.options = {**self.instance.options, **typed}
        return cleaned


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    form = SourceForm
    list_display = ["name", "kind", "team", "state", "last_success_at", "last_error_at", "enabled"]
    list_select_related = ["team"]
    list_filter = ["kind", "state", "enabled", "team"]
    search_fields = ["name", "organization"]
    readonly_fields = [
        "has_stored_secret",
        "state",
        "last_error",
        "last_error_at",
        "last_success_at",
        "high_water_mark",
        "last_reconciled_at",
        "consecutive_failures",
    ]
    # The fields a kind is configured with, among these, come from its backend's `fields`.
    KIND_FIELDS = ["base_url", "organization", "scopes", "environment", "secret_env", "secret"]
    # Shown with the secret: whether one is stored, and how to forget it.
    SECRET_FIELDS = ["has_stored_secret", "secret", "clear_secret"]

    @staticmethod
    def chosen_kind(request, obj):
        """The kind the page is about: the one posted, else asked for (?kind=), else the
        source's; None on a new source whose kind is not chosen yet."""
        kind = request.POST.get("kind") or request.GET.get("kind") or getattr(obj, "kind", "")
        return kind if kind in REGISTRY else None

    def get_fieldsets(self, request, obj=None):
        general = ["kind", "name", "team", "enabled", "sync_interval_minutes"]
        kind = self.chosen_kind(request, obj)
        if kind is None:
            # Without JavaScript the page cannot change with the select: the kind comes first.
            return [(None, {"fields": general, "description": self.kind_links()})]
        wanted = backend_class(kind).fields
        upstream = []
        for name in self.KIND_FIELDS:
            if name in wanted:
                upstream += self.SECRET_FIELDS if name == "secret" else [name]
        options = list(backend_class(kind).option_fields())
        return [
            (None, {"fields": general}),
            (_("Upstream"), {"fields": [*upstream, *options, "github_repository"]}),
            (_("Sync"), {"fields": self.readonly_fields[1:]}),
        ]

    @staticmethod
    def kind_links():
        return format_html(
            "{}<ul>{}</ul>",
            _("Choose the kind of source first: the page then asks for what it needs."),
            format_html_join(
                "",
                '<li><a href="?kind={}">{}</a></li>',
                ((kind, backend_class(kind).label) for kind in REGISTRY),
            ),
        )

    def option_fields(self, request, obj):
        kind = self.chosen_kind(request, obj)
        return backend_class(kind).option_fields() if kind else {}

    def get_exclude(self, request, obj=None):
        # Not model fields: the form gets them from the backend (get_form).
        return [*(super().get_exclude(request, obj) or ()), *self.option_fields(request, obj)]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        kind = self.chosen_kind(request, obj)
        if kind is None:
            return form
        backend = backend_class(kind)
        if "scopes" in form.base_fields:
            form.base_fields["scopes"].label = capfirst(backend.scopes_label)
            form.base_fields["scopes"].help_text = backend.scopes_help
        if "environment" in form.base_fields and backend.environment_help:
            form.base_fields["environment"].help_text = backend.environment_help
        options = backend.option_fields()
        form.base_fields.update(options)
        form.option_names = tuple(options)
        return form

    @admin.display(description=_("last error"))
    def last_error(self, source):
        return source.last_error

    @admin.display(description=_("a token is stored"), boolean=True)
    def has_stored_secret(self, source):
        return bool(source.secret)

    def save_model(self, request, obj, form, change):
        # A new configuration deserves a sync now, not after the failure's backoff.
        obj.next_sync_at = None
        super().save_model(request, obj, form, change)


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = [
        "short_id",
        "title",
        "source",
        "level",
        "upstream_status",
        "qualification",
        "came_back",
        "last_seen",
    ]
    list_filter = ["source", "kind", "level", "qualification", "came_back", "upstream_status"]
    search_fields = ["short_id", "title", "origin", "external_id"]
    list_select_related = ["source"]
    date_hierarchy = "last_seen"
    # Mirrored from upstream and qualified from the board: the admin only looks.
    readonly_fields = [f.name for f in Item._meta.fields]

    def has_add_permission(self, request):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Action)
class ActionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "item", "user", "upstream_ok"]
    list_filter = ["action", "upstream_ok"]
    list_select_related = ["item", "user"]
    search_fields = ["item__short_id", "item__title"]


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "source",
        "created",
        "updated",
        "unchanged",
        "skipped",
        "requests",
        "error",
    ]
    list_filter = ["source"]
    list_select_related = ["source"]


@admin.register(Release)
class ReleaseAdmin(ReadOnlyAdmin):
    """What the error trackers' releases were mirrored as (triage.releases), the "since
    release" of the status page: read only, the next mirror would overwrite an edit."""

    list_display = ["version", "source", "deployed_at"]
    list_filter = ["source"]
    list_select_related = ["source"]
    search_fields = ["version"]
    date_hierarchy = "deployed_at"
