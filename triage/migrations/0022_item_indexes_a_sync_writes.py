import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The foreign keys' own indexes, by the names Django gave them (the same on every database):
# dropped as such rather than by altering the fields, which on SQLite copies the whole item
# table once per field.
FOREIGN_KEY_INDEXES = {
    "triage_item_source_id_92c82bb6": "source_id",
    "triage_item_qualified_by_id_9283bed8": "qualified_by_id",
    "triage_item_rule_id_50d63dab": "rule_id",
}


class Migration(migrations.Migration):
    """Fewer B-trees for a sync to write with every item it mirrors (bench/sync.py): the
    source's index repeats the leading column of unique_item_per_source, and a new item has
    neither a qualifier nor a rule, so those two are indexed where set only."""

    dependencies = [
        ("triage", "0021_field_verbose_names"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="item",
                    name="qualified_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="qualified by",
                    ),
                ),
                migrations.AlterField(
                    model_name="item",
                    name="rule",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="triage.qualificationrule",
                        verbose_name="pre-qualified by rule",
                    ),
                ),
                migrations.AlterField(
                    model_name="item",
                    name="source",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="items",
                        to="triage.source",
                        verbose_name="source",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "triage_item" ("{column}")',
                )
                for name, column in FOREIGN_KEY_INDEXES.items()
            ],
        ),
        migrations.AddIndex(
            model_name="item",
            index=models.Index(
                condition=models.Q(("qualified_by__isnull", False)),
                fields=["qualified_by"],
                name="item_qualified_by",
            ),
        ),
        migrations.AddIndex(
            model_name="item",
            index=models.Index(
                condition=models.Q(("rule__isnull", False)), fields=["rule"], name="item_rule"
            ),
        ),
    ]
