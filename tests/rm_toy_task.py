"""A tiny preference task that any working reward model separates: chosen replies answer the
question politely, rejected ones are rude and off topic. Held-out pairs use unseen topics."""

from __future__ import annotations

from rmboost.records import Pair

TOPICS = [
    "the moon",
    "volcanoes",
    "bread",
    "tigers",
    "rain",
    "trains",
    "music",
    "chess",
    "rivers",
    "bees",
    "glass",
    "clocks",
    "paper",
    "salt",
    "wind",
    "copper",
]
GOOD = [
    "Here is a clear answer about {t}: it is well studied and I am happy to explain the key facts.",
    "Good question! {T} is interesting; the main points are explained carefully below.",
    "Thanks for asking about {t}. In short, the facts are these, with a helpful example.",
    "Sure, I can help with {t}. A careful, accurate summary follows.",
]
BAD = [
    "Stupid question, go away. I will not talk about this.",
    "Whatever. Nobody cares, figure it out yourself, idiot.",
    "Ugh, boring. Ask someone else, I refuse.",
    "No. This is a dumb thing to ask, leave me alone.",
]


def toy_pairs(topics: list[str], conversational: bool = False) -> list[Pair]:
    out = []
    for i, t in enumerate(topics):
        for j, good in enumerate(GOOD):
            question = f"Tell me about {t}." if j % 2 == 0 else f"What should I know about {t}?"
            prompt = [{"role": "user", "content": question}] if conversational else question
            out.append(
                Pair(
                    id=f"{i}-{j}",
                    prompt=prompt,
                    chosen=good.format(t=t, T=t.capitalize()),
                    rejected=BAD[(i + j) % len(BAD)],
                    method="toy",
                    conversational=conversational,
                )
            )
    return out


def train_and_test() -> tuple[list[Pair], list[Pair]]:
    return toy_pairs(TOPICS[:10]), toy_pairs(TOPICS[10:])
