"""What a `runbook` field names, resolved for display: a Runbook of the team, an outside URL,
or a plain reference nobody wrote yet (shown as text, so the vigie still reads it)."""

from dataclasses import dataclass

from monitors.models import Runbook, is_external_link


@dataclass(frozen=True)
class RunbookLink:
    label: str
    url: str = ""
    external: bool = False
    runbook: Runbook | None = None


def resolve(ref, known):
    """`ref` against `known` ({slug: Runbook} of the team); None when there is no reference."""
    ref = (ref or "").strip()
    if not ref:
        return None
    if is_external_link(ref):
        return RunbookLink(ref, ref, external=True)
    runbook = known.get(ref)
    if runbook is None:
        return RunbookLink(ref)
    return RunbookLink(runbook.title, runbook.get_absolute_url(), runbook=runbook)


def resolve_one(team, ref):
    """For a page showing one reference: at most one query."""
    ref = (ref or "").strip()
    if not ref or is_external_link(ref):
        return resolve(ref, {})
    runbook = Runbook.objects.filter(team=team, slug=ref).first()
    if runbook is not None:
        runbook.team = team  # its URL names the team: no second query
    return resolve(ref, {ref: runbook} if runbook else {})
