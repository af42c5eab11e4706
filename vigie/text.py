"""User-written Markdown (handover notes, runbooks) turned into HTML that is safe to show."""

import markdown
import nh3


def markdown_html(text):
    """Markdown rendered, then sanitised by nh3: no script, no event handler, no javascript:."""
    return nh3.clean(markdown.markdown(text or "", extensions=["fenced_code", "tables"]))
