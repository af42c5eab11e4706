"""What the triage app tells the apps above it, without knowing them (they connect in their
AppConfig.ready())."""

from django.dispatch import Signal

# Sent after every sync of a source, successful or not, by `sync_source` (the scheduled sync
# and `manage.py sync` alike): sender=Source, source=, run=SyncRun, previous_success= the
# source's `last_success_at` before this sync (None: this was its first mirror).
sync_finished = Signal()
