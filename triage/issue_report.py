"""The GitHub issue **Bug** opens for an item.

Titles, culprits, tags and frames come from the monitored application, so anyone who can make
it fail writes them: they go into code spans and blocks, never raw Markdown.
"""

import re

TOP_FRAMES = 10


def md_code(text):
    """`text` as one inline code span, whatever backticks or newlines it holds."""
    text = " ".join(str(text).split())
    if not text:
        return "—"
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_block(lines):
    text = "\n".join(lines)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _frame_line(frame):
    if not isinstance(frame, dict):
        return str(frame)
    where = frame.get("filename") or frame.get("module") or frame.get("abs_path") or "?"
    line = f"{where}:{frame.get('lineno') or '?'} in {frame.get('function') or '?'}"
    if frame.get("context_line"):
        line += f"\n    {frame['context_line'].strip()}"
    return line


def _when(value):
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def issue_title(item):
    prefix = f"[{item.short_id}] " if item.short_id else ""
    return (prefix + " ".join(item.title.split()))[:250]


def issue_body(item, report, marker):
    link = item.permalink if re.fullmatch(r"https?://[^\s<>()]+", item.permalink or "") else ""
    name = item.short_id or item.external_id
    source = f"[{md_code(name)}](<{link}>)" if link else md_code(name)
    lines = [
        marker,
        f"Opened from Vigie for {source} ({md_code(item.source.name)}).",
        "",
        f"- **Title:** {md_code(item.title)}",
        f"- **Culprit:** {md_code(item.origin)}",
        f"- **Events:** {item.tally} · **Users:** {'—' if item.users is None else item.users}",
        f"- **First seen:** {_when(item.first_seen)} · **Last seen:** {_when(item.last_seen)}",
        f"- **Environment:** {md_code(item.environment)}",
        f"- **Release:** {md_code(report.get('release') or '')}",
    ]
    tags = report.get("tags") or {}
    if isinstance(tags, list):  # Sentry's [{"key": …, "value": …}] shape
        tags = {tag.get("key"): tag.get("value") for tag in tags if isinstance(tag, dict)}
    if tags:
        lines += ["", "### Tags", ""]
        lines += [f"- {md_code(key)}: {md_code(value)}" for key, value in sorted(tags.items())]
    frames = report.get("frames") or []
    if frames:
        lines += ["", "### Stack trace (top frames)", ""]
        lines.append(md_block([_frame_line(frame) for frame in frames[:TOP_FRAMES]]))
    return "\n".join(lines) + "\n"
