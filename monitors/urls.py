from django.urls import path

from monitors import views, views_status

app_name = "monitors"

urlpatterns = [
    path("monitors", views.overview, name="overview"),
    path("monitors/<int:pk>", views.check_detail, name="check"),
    path("incidents", views.incident_list, name="incidents"),
    path("incidents/<int:pk>", views.incident_detail, name="incident"),
    path("incidents/<int:pk>/ack", views.act_on_incident, {"action": "ack"}, name="ack"),
    path(
        "incidents/<int:pk>/resolve", views.act_on_incident, {"action": "resolve"}, name="resolve"
    ),
    path("incidents/<int:pk>/note", views.act_on_incident, {"action": "note"}, name="note"),
    path("incidents/<int:pk>/ack/<str:token>", views.ack_link, name="ack-link"),
    path("api/incidents/<int:pk>/ack", views.api_incident, {"action": "ack"}, name="api-ack"),
    path(
        "api/incidents/<int:pk>/resolve",
        views.api_incident,
        {"action": "resolve"},
        name="api-resolve",
    ),
    path("status", views_status.status_page, name="status"),
    path("status.json", views_status.status_json, name="status-json"),
    path("public/<slug:slug>", views_status.public_status, name="public-status"),
    path("runbooks/", views_status.runbook_list, name="runbooks"),
    path("runbooks/<slug:team>/<slug:slug>", views_status.runbook_detail, name="runbook"),
    path("incidents/<int:pk>/status-update", views_status.publish_update, name="publish-update"),
    path("ping/<uuid:token>", views.ping, name="ping"),
    path("ping/<uuid:token>/fail", views.ping, {"kind": "fail"}, name="ping-fail"),
    path("ping/<uuid:token>/start", views.ping, {"kind": "start"}, name="ping-start"),
]
