from django.db import migrations, models


def accounts_from_sentry_account(apps, schema_editor):
    Profile = apps.get_model("rotation", "Profile")
    for profile in Profile.objects.exclude(sentry_account=""):
        profile.accounts = {"sentry": profile.sentry_account}
        profile.save(update_fields=["accounts"])


def sentry_account_from_accounts(apps, schema_editor):
    Profile = apps.get_model("rotation", "Profile")
    for profile in Profile.objects.exclude(accounts={}):
        profile.sentry_account = (profile.accounts or {}).get("sentry", "")
        profile.save(update_fields=["sentry_account"])


class Migration(migrations.Migration):
    dependencies = [
        ("rotation", "0012_profile_sentry_account"),
    ]

    operations = [
        migrations.AddField(
            model_name="profile",
            name="accounts",
            field=models.JSONField(
                blank=True, default=dict, verbose_name="accounts on other tools"
            ),
        ),
        migrations.RunPython(accounts_from_sentry_account, sentry_account_from_accounts),
        migrations.RemoveField(model_name="profile", name="sentry_account"),
    ]
