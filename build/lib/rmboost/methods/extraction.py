"""Pull a response out of what an LLM wrote around it.

Models answer a rewrite prompt in many shapes: the text in the asked-for tags, the tags plus a
preamble, an opening tag never closed, no tags at all behind a "Here is the new response:" line,
or an echo of the original response before the new one. This module handles those shapes and
returns None where nothing usable is left; deciding whether the text is good enough is the
method's job.
"""

from __future__ import annotations

import re

PREAMBLE = re.compile(
    r"^\s*(?:(?:sure|okay|ok|certainly|of course|here(?:'s| is| are)?)\b[^\n]*?[:.!]\s*\n+"
    r"|(?:\*\*)?(?:new|improved|worse|better|revised|rewritten|updated)?\s*(?:response|answer)(?:\*\*)?\s*:(?:\*\*)?\s*)",
    re.IGNORECASE,
)
FENCE = re.compile(r"^```[a-z]*\n(.*?)\n?```$", re.DOTALL)


def _clean(text: str) -> str:
    text = text.strip()
    fenced = FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    for _ in range(3):  # a preamble can be stacked: "Sure! Here is the new response:\nResponse: ..."
        stripped = PREAMBLE.sub("", text, count=1).strip()
        if stripped == text:
            break
        text = stripped
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def extract_tagged(text: str, tag: str = "response") -> str | None:
    """The content of the last complete `<tag>...</tag>` block; else the text after an unclosed
    opening tag; else the whole text with a conversational preamble removed. None if empty."""
    opening, closing = f"<{tag}>", f"</{tag}>"
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", text, flags=re.DOTALL | re.IGNORECASE)
    blocks = [b for b in (_clean(b) for b in blocks) if b]
    if blocks:
        return blocks[-1]
    lower = text.lower()
    if opening in lower:
        candidate = text[lower.rfind(opening) + len(opening):]
    else:
        candidate = text
    # A stray closing tag with no opening one: keep what came before it.
    candidate = re.split(re.escape(closing), candidate, flags=re.IGNORECASE)[0]
    cleaned = _clean(candidate)
    return cleaned or None
