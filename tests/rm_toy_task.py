"""A tiny preference task that any working reward model separates: chosen replies answer the
question politely, rejected ones are rude and off topic. Held-out pairs use unseen topics.

Length does not give the answer away: in half the pairs the rude reply is the longer one (a rude
rant), in the other half the shorter (a rude brush-off), so the `longer` baseline is exactly 0.5.
"""

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
GOOD = [  # 64 to 100 characters once the topic is filled in
    "Here is a clear answer about {t}: it is well studied and I am happy to explain the key facts.",
    "Good question! {T} is interesting; the main points are explained carefully below.",
    "Thanks for asking about {t}. In short, the facts are these, with a helpful example.",
    "Sure, I can help with {t}. A careful, accurate summary follows.",
]
BAD = [  # brush-offs, all under 56 characters
    "Stupid question, go away. I will not talk about this.",
    "Whatever. Nobody cares, figure it out yourself, idiot.",
    "Ugh, boring. Ask someone else, I refuse.",
    "No. This is a dumb thing to ask, leave me alone.",
]
RANTS = [  # rants, all over 110 characters
    "Stupid question, go away. I will not talk about this, and frankly I cannot believe anyone "
    "would waste my time asking it.",
    "Whatever. Nobody cares about any of this, so figure it out yourself, idiot, and stop "
    "bothering people who have better things to do.",
    "Ugh, this is so boring that I refuse to even think about it. Ask someone else, anyone else, "
    "because I am not going to help you at all.",
    "No. This is a dumb thing to ask and you should feel bad about it. Leave me alone and do not "
    "come back with more questions like this one.",
]


def toy_pairs(topics: list[str], conversational: bool = False) -> list[Pair]:
    out = []
    for i, t in enumerate(topics):
        for j, good in enumerate(GOOD):
            question = f"Tell me about {t}." if j % 2 == 0 else f"What should I know about {t}?"
            prompt = [{"role": "user", "content": question}] if conversational else question
            rude = (RANTS if (i + j) % 2 == 0 else BAD)[(i + j) // 2 % len(BAD)]
            out.append(
                Pair(
                    id=f"{i}-{j}",
                    prompt=prompt,
                    chosen=good.format(t=t, T=t.capitalize()),
                    rejected=rude,
                    method="toy",
                    conversational=conversational,
                )
            )
    return out


def train_and_test() -> tuple[list[Pair], list[Pair]]:
    return toy_pairs(TOPICS[:10]), toy_pairs(TOPICS[10:])
