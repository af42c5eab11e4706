"""The home page's panels, registered by the apps in their AppConfig.ready().

    from vigie import home
    home.register("rotation/_home.html", "rotation.views.home.home_panel", order=10,
                  stylesheets=["rotation/rotation.css"])

`context(request)` returns the panel's template context, or None to leave the panel out.
"""

from dataclasses import dataclass, field

from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Panel:
    template: str
    context: object
    order: int
    stylesheets: tuple = field(default=())


PANELS = {}


def register(template, context, order, stylesheets=()):
    """Add (or replace, by template name) a panel; panels are shown by increasing `order`."""
    PANELS[template] = Panel(template, context, order, tuple(stylesheets))


def panels(request):
    """[{"template", "context", "stylesheets"}] for the panels that have something to show."""
    shown = []
    for panel in sorted(PANELS.values(), key=lambda p: p.order):
        func = import_string(panel.context) if isinstance(panel.context, str) else panel.context
        context = func(request)
        if context is not None:
            shown.append(
                {"template": panel.template, "context": context, "stylesheets": panel.stylesheets}
            )
    return shown
