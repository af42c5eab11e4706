from django.db import migrations, models


def keep_the_old_texts(apps, schema_editor):
    Source = apps.get_model("triage", "Source")
    for pk, text in Source.objects.exclude(last_error="").values_list("pk", "last_error"):
        Source.objects.filter(pk=pk).update(last_failure={"text": text})


def back_to_texts(apps, schema_editor):
    Source = apps.get_model("triage", "Source")
    for source in Source.objects.exclude(last_failure={}):
        failure = source.last_failure
        text = failure.get("text") or str(failure.get("code", ""))
        Source.objects.filter(pk=source.pk).update(last_error=text)


class Migration(migrations.Migration):
    dependencies = [("triage", "0012_writeback_failure_facts")]

    operations = [
        migrations.AddField(
            model_name="source",
            name="last_failure",
            field=models.JSONField(blank=True, default=dict, verbose_name="last error"),
        ),
        migrations.RunPython(keep_the_old_texts, back_to_texts),
        migrations.RemoveField(model_name="source", name="last_error"),
    ]
