from django.urls import path

from triage import rule_views, views

app_name = "triage"

urlpatterns = [
    path("board", views.board, name="board"),
    path("board/counts", views.board_counts, name="board-counts"),
    path("board/items/<int:pk>", views.item_detail, name="item-detail"),
    path("board/items/<int:pk>/qualify", views.qualify_item, name="qualify-item"),
    path("board/rules", rule_views.rules, name="rules"),
    path("board/rules/<int:pk>/edit", rule_views.edit_rule, name="edit-rule"),
    path("board/rules/<int:pk>/retire", rule_views.retire_rule, name="retire-rule"),
    path("board/items/qualify", views.qualify_items, name="qualify-items"),
    path("demo/issues", views.demo_issues, name="demo-issues"),
    path("demo/issues/<int:pk>", views.demo_issue, name="demo-issue"),
]
