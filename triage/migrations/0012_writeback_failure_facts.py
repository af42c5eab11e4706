from django.db import migrations, models


def keep_the_old_texts(apps, schema_editor):
    # Worded in whatever language the request had: shown as they are.
    Item = apps.get_model("triage", "Item")
    for pk, text in Item.objects.exclude(writeback_error="").values_list("pk", "writeback_error"):
        Item.objects.filter(pk=pk).update(writeback_failure={"text": text})


def back_to_texts(apps, schema_editor):
    Item = apps.get_model("triage", "Item")
    for item in Item.objects.exclude(writeback_failure={}):
        failure = item.writeback_failure
        text = failure.get("text") or str(failure.get("error", {}).get("code", ""))
        Item.objects.filter(pk=item.pk).update(writeback_error=text)


class Migration(migrations.Migration):
    dependencies = [("triage", "0011_kinds_from_the_registry")]

    operations = [
        migrations.AddField(
            model_name="item",
            name="writeback_failure",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(keep_the_old_texts, back_to_texts),
        migrations.RemoveField(model_name="item", name="writeback_error"),
    ]
