"""Deterministic fake data: names, hashtags, source posts, hooks and captions.

Every generator takes its inputs explicitly and seeds its own `random.Random` from a hash of
them, so the same inputs always give the same output whatever happened before.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from typing import Any

__all__ = [
    "caption",
    "display_name",
    "handle",
    "hashtags",
    "hooks",
    "influencer_name",
    "rng_for",
    "slide_count",
    "source_items",
]

_FEMALE = [
    "Maya Torres",
    "Ava Chen",
    "Lena Brooks",
    "Sofia Reyes",
    "Nora Patel",
    "Chloe Kim",
    "Isla Moreno",
    "Zoe Carter",
    "Mia Johansson",
    "Priya Shah",
    "Emma Laurent",
    "Hana Sato",
]
_MALE = [
    "Leo Martins",
    "Noah Rivera",
    "Ethan Park",
    "Lucas Meyer",
    "Omar Haddad",
    "Kai Nakamura",
    "Mateo Silva",
    "Owen Fraser",
    "Ravi Kapoor",
    "Jonas Berg",
    "Theo Dubois",
    "Sam Okafor",
]
_NONBINARY = ["Alex Rowan", "Jordan Vale", "Riley Quinn", "Sage Ellis", "Avery Lane", "Rowan Blake"]
_GENERIC = [
    "morningroutine",
    "productivity",
    "selfcare",
    "dailyhabits",
    "wellness",
    "lifehacks",
    "motivation",
    "fitness",
    "healthyliving",
    "workfromhome",
    "mindset",
    "routine",
    "smallbusiness",
    "tiktokmademebuyit",
    "musthave",
    "dayinmylife",
    "glowup",
    "organize",
    "budgeting",
    "studytok",
    "running",
    "coffeelover",
    "nightshift",
    "gymtok",
]
_STOP = {
    "the",
    "and",
    "for",
    "with",
    "that",
    "this",
    "your",
    "you",
    "are",
    "from",
    "into",
    "who",
    "our",
    "their",
    "have",
    "has",
    "every",
    "each",
    "what",
    "when",
    "will",
    "can",
    "not",
    "but",
    "all",
    "any",
    "app",
    "its",
    "it's",
    "they",
    "them",
    "than",
    "then",
}
_HOOK_SETUPS = [
    "I kept {p} until I found {a}",
    "Nobody tells you this about {p}",
    "POV: you finally fixed {p}",
    "3 things I wish I knew about {p}",
    "Stop scrolling if you struggle with {p}",
    "The {p} hack that changed my week",
    "I tried {a} for 30 days",
    "This is your sign to rethink {p}",
    "Why does nobody talk about {p}?",
    "My honest review of {a}",
]
_HOOK_PAYOFFS = [
    "so I fixed it for good",
    "and I'm never going back",
    "here's what happened",
    "it took 2 minutes a day",
    "and it actually worked",
    "save this for later",
    "watch till the end",
    "you'll thank me tomorrow",
]


def rng_for(*parts: object) -> random.Random:
    """A random generator seeded by a SHA-256 of the given parts."""
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(h[:16], "big"))


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def influencer_name(rng: random.Random, gender: str) -> str:
    """A persona name from the fixed list of its gender."""
    pool = _FEMALE if gender == "female" else _MALE if gender == "male" else _NONBINARY
    return rng.choice(pool)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower()) or "brand"


def handle(project_name: str, platform: str) -> str:
    """A social handle derived from the project name and platform (no `@`)."""
    base = _slug(project_name)[:24]
    return base if platform == "tiktok" else f"{base}.app"


def display_name(project_name: str, platform: str) -> str:
    """A display name derived from the project name and platform."""
    return project_name if platform == "tiktok" else f"{project_name} (Instagram)"


def _words(*texts: str | None) -> list[str]:
    out: list[str] = []
    for t in texts:
        for w in re.findall(r"[A-Za-z][A-Za-z']{2,19}\b", t or ""):
            w = w.lower().replace("'", "")
            if w not in _STOP and w not in out:
                out.append(w)
    return out


def hashtags(seed: int, app_name: str | None, app_description: str | None) -> list[dict[str, Any]]:
    """The 20-entry keyword bank, sorted by score desc then viewCount desc."""
    rng = rng_for("hashtags", seed, app_name, app_description)
    words = _words(app_name, app_description)
    tags: list[str] = []
    for i, w in enumerate(words):
        if len(tags) >= 12:
            break
        tags.append(w)
        if i + 1 < len(words) and len(tags) < 12:
            tags.append(w + words[i + 1])
    for g in rng.sample(_GENERIC, len(_GENERIC)):
        if len(tags) >= 20:
            break
        if g not in tags:
            tags.append(g)
    n = 0
    while len(tags) < 20:
        n += 1
        tags.append(f"trend{n}")
    entries: list[dict[str, Any]] = []
    for tag in tags[:20]:
        views = rng.randint(50_000, 90_000_000)
        entries.append(
            {
                "hashtag": tag,
                "phrase": tag,
                "score": rng.randint(70, 100),
                "viewCount": views,
                "useCount": rng.randint(100, max(101, views // 20)),
            }
        )
    entries.sort(key=lambda e: (-e["score"], -e["viewCount"], e["hashtag"]))
    return entries


def slide_count(tiktok_id: str) -> int:
    """The slide count of a slideshow source (3-10), a pure function of its id."""
    return 3 + int(hashlib.sha256(tiktok_id.encode()).hexdigest()[:8], 16) % 8


def source_items(
    rng: random.Random, media_url: Callable[[str], str], kind: str, limit: int, topic: str
) -> list[dict[str, Any]]:
    """`limit` SourceItems; `mixed` alternates slideshow and video, slideshow first."""
    items = []
    for i in range(limit):
        k = kind if kind != "mixed" else ("slideshow" if i % 2 == 0 else "video")
        tid = "7" + _digits(rng, 18)
        views = rng.randint(10_000, 25_000_000)
        suffix = rng.choice(["daily", "club", "with", "by", "hq"])
        author = f"{_slug(topic)[:12]}{suffix}{rng.randint(1, 99)}"
        items.append(
            {
                "tiktokId": tid,
                "kind": k,
                "thumbnailUrl": media_url(f"src_{tid}-thumb.jpg"),
                "caption": f"{rng.choice(['5 things', 'My routine', 'Try this', 'Honest take'])} "
                f"about {topic} #{_slug(topic)[:20]}",
                "author": {
                    "handle": author,
                    "displayName": author.capitalize(),
                    "avatarUrl": media_url(f"src_{tid}-avatar.jpg"),
                    "followerCount": rng.randint(1_000, 2_000_000),
                },
                "stats": {
                    "viewCount": views,
                    "likeCount": rng.randint(0, views // 5),
                    "commentCount": rng.randint(0, 5_000),
                    "shareCount": rng.randint(0, 20_000),
                },
                "imageCount": slide_count(tid) if k == "slideshow" else None,
            }
        )
    return items


def hooks(rng: random.Random, app_name: str, topic_words: list[str], limit: int) -> list[str]:
    """`limit` hooks; the setup/payoff break is the two characters backslash and n."""
    topics = topic_words or [app_name.lower()]
    out = []
    for _ in range(limit):
        setup = rng.choice(_HOOK_SETUPS).format(p=rng.choice(topics), a=app_name)
        out.append(setup + "\\n" + rng.choice(_HOOK_PAYOFFS))
    return out


def caption(rng: random.Random, app_name: str | None, tag: str | None) -> str:
    """A generated caption of at most 2,200 characters."""
    name = app_name or "this"
    lines = [
        f"Okay, {name} just made my whole week easier",
        f"Not me recommending {name} to everyone I know",
        f"The routine that finally stuck, thanks to {name}",
        f"Saving this so I never forget how good {name} is",
    ]
    text = rng.choice(lines) + " ✨"
    if tag:
        text += f" #{tag}"
    return text[:2200]
