"""User- or upstream-written Markdown as HTML that is safe to show: rendered, then sanitised."""

import markdown
import nh3


def safe_markdown(text):
    """HTML for `text`, with every tag or attribute that could run or load something dropped."""
    return nh3.clean(markdown.markdown(text or "", extensions=["fenced_code", "tables"]))
