"""Seed 004's runbooks RB-001 to RB-005, rewritten for a Django + PostgreSQL + django-q2
production: editable examples the demo team starts with (`manage.py demo`)."""

RUNBOOKS = [
    (
        "rb-001-site-down",
        "RB-001 : site en panne (erreurs 5xx)",
        """**Symptômes** : alerte « site en panne », le contrôle HTTP échoue, des utilisateurs
signalent des erreurs 500 ou 502.

## Diagnostic

1. Confirmer depuis l'extérieur (navigateur en 4G, autre réseau) :
   `curl -I https://exemple.fr/health`.
2. État des processus : `systemctl status gunicorn` ou `docker compose ps web`.
3. Journaux récents : `journalctl -u gunicorn --since "15 min ago"`
   ou `docker compose logs --tail=200 web`.
4. Sentry → Issues → dernière heure : une nouvelle erreur depuis la dernière release ?
5. Dépendances : `python manage.py check --deploy` et `/health` (base de données, cache, stockage).

## Actions

1. Processus gunicorn tombé → le redémarrer (`systemctl restart gunicorn`).
2. Base de données injoignable → voir **RB-002**.
3. Bug introduit par la dernière release → revenir à la release précédente, puis corriger.
4. Surcharge → ajouter des workers gunicorn ou une instance.

## Communication

- Publier une **mise à jour de la page de statut** depuis la page de l'incident
  (un message pour les utilisateurs, sans détail interne).
- Au-delà de 5 minutes d'indisponibilité, prévenir le support et les utilisateurs clés.
""",
    ),
    (
        "rb-002-database",
        "RB-002 : connexions à PostgreSQL",
        """**Symptômes** : `OperationalError: connection refused`, `too many connections`,
délais d'attente sur les requêtes.

## Diagnostic

```sql
-- Connexions ouvertes, par état et par application
SELECT application_name, state, count(*)
FROM pg_stat_activity GROUP BY 1, 2 ORDER BY 3 DESC;

-- Requêtes les plus longues en cours
SELECT pid, now() - query_start AS duree, left(query, 120)
FROM pg_stat_activity WHERE state = 'active' ORDER BY duree DESC LIMIT 10;
```

- Comparer au plafond : `SHOW max_connections;` et au `CONN_MAX_AGE` de Django.
- Vérifier l'espace disque du serveur PostgreSQL (`df -h`).

## Actions

1. Pool épuisé → redémarrer gunicorn et les workers django-q2 (libère les connexions).
2. Requête bloquante → `SELECT pg_cancel_backend(pid);` puis, si besoin, `pg_terminate_backend`.
3. Fuite de connexions → identifier le code (tâche longue, thread), corriger,
   baisser `CONN_MAX_AGE`.
4. Base hébergée en incident → consulter la page de statut de l'hébergeur et attendre.
""",
    ),
    (
        "rb-003-latency",
        "RB-003 : lenteurs (temps de réponse > 2 s)",
        """**Symptômes** : le contrôle HTTP est lent (p95 > 2 s), les utilisateurs se plaignent.

## Diagnostic

1. Sentry → Performance → transactions les plus lentes.
2. Charge du serveur : `top`, `free -m`, nombre de workers gunicorn occupés.
3. Requêtes lentes PostgreSQL : `pg_stat_statements` trié par `mean_exec_time`.
4. Services externes appelés pendant la requête (API, envoi d'e-mails) : passent-ils par une tâche ?

## Actions

1. CPU saturé → ajouter des workers ou une instance.
2. Requête lente → index manquant, `select_related`/`prefetch_related`, pagination.
3. Appel externe lent dans une vue → le déplacer dans une tâche django-q2.
""",
    ),
    (
        "rb-004-payments",
        "RB-004 : pic d'échecs de paiement",
        """**Symptômes** : taux d'échec des paiements > 10 %, incident **métier**.

## Diagnostic

1. Tableau de bord du prestataire de paiement → paiements échoués → motifs.
2. Webhooks : dernières livraisons et leurs réponses (une 500 chez nous ?).
3. Sentry : erreurs dans la vue qui reçoit les webhooks.

## Actions

1. Incident chez le prestataire → consulter sa page de statut, attendre, informer le support.
2. Webhook en échec chez nous → corriger, puis rejouer les événements depuis le prestataire.
3. Soupçon de fraude → revoir les règles anti-fraude avec le responsable métier.
""",
    ),
    (
        "rb-005-django-q2-workers",
        "RB-005 : workers django-q2 bloqués",
        """**Symptômes** : les tâches ne progressent plus, la file grandit, des tâches abandonnées
s'accumulent sur le tableau de tri.

## Diagnostic

```bash
python manage.py qinfo      # état du cluster, tâches en file, dernier battement
python manage.py qmonitor   # workers vivants et tâche en cours de chacun
```

```sql
-- Taille de la file (broker ORM) et tâches les plus anciennes
SELECT count(*), min(lock) FROM django_q_ormq;
-- Derniers échecs
SELECT name, func, stopped FROM django_q_task WHERE success = false ORDER BY stopped DESC LIMIT 20;
```

## Actions

1. Cluster arrêté (plus de battement) → redémarrer `python manage.py qcluster`.
2. Worker bloqué sur une tâche sans fin → vérifier le `timeout` de la tâche (il doit être
   inférieur à `retry`), tuer le worker, corriger le code, relancer la tâche.
3. File saturée → ajouter des workers (`Q_CLUSTER["workers"]`) ou étaler les planifications.
""",
    ),
]

# Which demo check reads which runbook.
CHECK_RUNBOOKS = {
    "vigie-health": "rb-001-site-down",
    "port-ferme": "rb-001-site-down",
    "export-nocturne": "rb-005-django-q2-workers",
    "intervalles-courts": "rb-002-database",
}
