from django import forms
from django.utils.translation import gettext_lazy as _

from rotation.models import Team
from triage.models import QualificationRule, Source, exception_type


class QualificationRuleForm(forms.ModelForm):
    """A rule, within the teams of whoever writes it. The model refuses a pattern that is not
    a regular expression (with the reason), a tag rule without its key, and a source of
    another team."""

    class Meta:
        model = QualificationRule
        fields = [
            "name",
            "team",
            "source",
            "kind",
            "field",
            "tag_key",
            "match",
            "pattern",
            "qualification",
        ]

    def __init__(self, *args, team_ids, **kwargs):
        """`team_ids`: the teams the user may write rules for (None: every team)."""
        super().__init__(*args, **kwargs)
        teams = Team.objects.all() if team_ids is None else Team.objects.filter(pk__in=team_ids)
        sources = Source.objects.filter(team__in=teams).select_related("team")
        if self.instance.pk:
            # A rule stays in its team: only a manager of that team edits it.
            del self.fields["team"]
            sources = sources.filter(team=self.instance.team_id)
        else:
            self.fields["team"].queryset = teams
            if team_ids is not None and len(team_ids) == 1:
                # One team: nothing to choose.
                self.fields["team"].initial = next(iter(team_ids))
                self.fields["team"].empty_label = None
        self.fields["source"].queryset = sources
        self.fields["source"].empty_label = _("every source of the team")

    def save(self, commit=True):
        if self.instance.pk and set(self.changed_data) & set(QualificationRule.CONDITION):
            # The timeout warning was about the condition just replaced.
            self.instance.timeouts, self.instance.last_timeout_at = 0, None
        return super().save(commit)


def initial_from_item(item):
    """What "Create a rule" from an item fills in: its exception type when it has one, else
    its title, as plain text, on its source, with the qualification it was given."""
    kind = exception_type(item.title, item.payload)
    field = QualificationRule.Field.EXCEPTION_TYPE if kind else QualificationRule.Field.TITLE
    pattern = kind or item.title
    verdicts = QualificationRule.Verdict.values
    return {
        "name": pattern[:100],
        "team": item.source.team_id,
        "source": item.source_id,
        "kind": item.kind if item.kind in QualificationRule.Kind.values else "",
        "field": field,
        "match": QualificationRule.Match.CONTAINS,
        "pattern": pattern[:500],
        "qualification": item.qualification if item.qualification in verdicts else "expected",
    }
