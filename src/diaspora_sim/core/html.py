"""Self-contained HTML of a markdown report: tables rendered, PNG figures embedded (no external files)."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from markdown_it import MarkdownIt

STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .6em}
th{background:#f3f3f3}img{max-width:100%}code,pre{background:#f6f6f6}pre{padding:.6em;overflow-x:auto}"""


def markdown_html(text: str, folder: Path, title: str = "") -> str:
    """The HTML page of markdown `text`, with the PNG images it links (relative to `folder`) embedded."""
    body = MarkdownIt("commonmark").enable("table").render(text)

    def embed(match: re.Match[str]) -> str:
        path = Path(folder) / html.unescape(match.group(1))
        if path.suffix.lower() != ".png" or not path.is_file():
            return match.group(0)
        return f'src="data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}"'

    body = re.sub(r'src="([^"]+)"', embed, body)
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>\n{body}</body></html>\n")


def write_html(markdown_file: Path, title: str = "") -> Path:
    """Write the self-contained HTML beside `markdown_file` (same name, .html); its path."""
    out = markdown_file.with_suffix(".html")
    out.write_text(markdown_html(markdown_file.read_text(encoding="utf-8"), markdown_file.parent, title),
                   encoding="utf-8")
    return out


__all__ = ["markdown_html", "write_html"]
