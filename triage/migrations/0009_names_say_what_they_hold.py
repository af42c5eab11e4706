from django.db import migrations, models

import vigie.crypto


class Migration(migrations.Migration):
    """Renames (every value stays where it was) and the labels that go with them."""

    dependencies = [("triage", "0008_admin_labels")]

    operations = [
        migrations.RenameField("source", "token", "secret"),
        migrations.RenameField("source", "token_env", "secret_env"),
        migrations.RenameField("source", "projects", "scopes"),
        migrations.RenameField("item", "culprit", "origin"),
        migrations.RenameField("item", "event_count", "tally"),
        migrations.AlterField(
            model_name="source",
            name="scopes",
            field=models.JSONField(
                blank=True, default=list, verbose_name="projects or repositories"
            ),
        ),
        migrations.AlterField(
            model_name="source",
            name="secret",
            field=vigie.crypto.EncryptedTextField(
                blank=True,
                help_text="Used when no environment variable is named. Never shown back.",
                verbose_name="stored secret",
            ),
        ),
        migrations.AlterField(
            model_name="source",
            name="secret_env",
            field=models.CharField(
                blank=True,
                help_text="Name of the environment variable holding the token or DSN (preferred).",
                max_length=100,
                verbose_name="secret environment variable",
            ),
        ),
    ]
