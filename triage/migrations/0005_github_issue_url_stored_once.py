"""The GitHub issue of a bug lives in Item.github_issue_url only: take the copy out of
qualification_params (filling the field first where only the copy held it)."""

from django.db import migrations


def forwards(apps, schema_editor):
    item_model = apps.get_model("triage", "Item")
    for item in item_model.objects.filter(qualification_params__has_key="github_issue_url"):
        url = item.qualification_params.pop("github_issue_url")
        if not item.github_issue_url and url:
            item.github_issue_url = url
        item.save(update_fields=["qualification_params", "github_issue_url"])


def backwards(apps, schema_editor):
    item_model = apps.get_model("triage", "Item")
    for item in item_model.objects.filter(qualification="bug").exclude(github_issue_url=""):
        item.qualification_params = {
            **item.qualification_params,
            "github_issue_url": item.github_issue_url,
        }
        item.save(update_fields=["qualification_params"])


class Migration(migrations.Migration):
    dependencies = [("triage", "0004_small_requests")]

    operations = [migrations.RunPython(forwards, backwards)]
