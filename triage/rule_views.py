"""The rules page: the vigie's local qualification rules with their hits, written by the
team's members, edited and retired by its managers."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from rotation.context_processors import current_watch
from triage.forms import QualificationRuleForm, initial_from_item
from triage.models import Item, QualificationRule


def _memberships(request):
    """The user's active memberships by team (the top bar loaded them already)."""
    return {m.team_id: m for m in current_watch(request).memberships}


def _team_ids(request, memberships):
    return None if request.user.is_superuser else set(memberships)


def _rule_for_manager(request, pk):
    """The rule, if the user manages its team: 404 outside the team, 403 for a member."""
    memberships = _memberships(request)
    rules = QualificationRule.objects.visible_to(request.user, _team_ids(request, memberships))
    rule = get_object_or_404(rules.select_related("team"), pk=pk)
    if not rule.team.managed_by(request.user, memberships.get(rule.team_id)):
        raise PermissionDenied(_("Only the team's managers edit or retire its rules."))
    return rule


@require_http_methods(["GET", "POST"])
def rules(request):
    """The list (GET), and a new rule (POST); `?item=<id>` fills the form from that item."""
    memberships = _memberships(request)
    team_ids = _team_ids(request, memberships)
    initial = {}
    if item_pk := request.GET.get("item", "").strip():
        visible = Item.objects.visible_to(request.user, team_ids).select_related("source")
        item = visible.filter(pk=item_pk).first() if item_pk.isdigit() else None
        initial = initial_from_item(item) if item else {}
    form = QualificationRuleForm(request.POST or None, initial=initial, team_ids=team_ids)
    if request.method == "POST" and form.is_valid():
        rule = form.save(commit=False)
        rule.created_by = request.user
        rule.save()
        messages.success(
            request,
            _("Rule %(name)s saved: new items that match it will be pre-qualified.")
            % {"name": rule.name},
        )
        return redirect("triage:rules")
    listed = (
        QualificationRule.objects.visible_to(request.user, team_ids)
        .with_hits(timezone.now())
        .select_related("team", "source", "created_by", "retired_by")
        # Active rules first, then the retired ones; newest first in each.
        .order_by(F("retired_at").asc(nulls_first=True), "-created_at", "-pk")
    )
    listed = list(listed)
    for rule in listed:
        rule.editable = rule.team.managed_by(request.user, memberships.get(rule.team_id))
    can_create = request.user.is_superuser or bool(memberships)
    status = 422 if form.errors else 200
    context = {
        "rules": listed,
        "form": form,
        "can_create": can_create,
        "open_form": bool(initial) or bool(form.errors),
    }
    return render(request, "triage/rules.html", context, status=status)


@require_http_methods(["GET", "POST"])
def edit_rule(request, pk):
    rule = _rule_for_manager(request, pk)
    if rule.is_memory:
        # Its threshold is the Attendu's: qualified again, it changes; retired, it goes.
        messages.error(
            request, _("A memory of an Attendu is changed by qualifying the item again.")
        )
        return redirect("triage:rules")
    form = QualificationRuleForm(request.POST or None, instance=rule, team_ids=None)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Rule %(name)s changed.") % {"name": rule.name})
        return redirect("triage:rules")
    status = 422 if form.errors else 200
    return render(request, "triage/rule_form.html", {"rule": rule, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
def retire_rule(request, pk):
    """The confirmation (GET), then the retirement (POST)."""
    rule = _rule_for_manager(request, pk)
    if request.method == "GET" and rule.retired_at is None:
        return render(request, "triage/rule_retire.html", {"rule": rule})
    if request.method == "POST" and rule.retired_at is None:
        rule.retire(request.user)
        messages.success(
            request, _("Rule %(name)s retired: it no longer applies.") % {"name": rule.name}
        )
    return redirect("triage:rules")
