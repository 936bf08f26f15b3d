"""The torch network behind `maxsim`: a MiniLM encoder shared by response and evidence, a learned
projection, per-token support (the best cosine to any evidence token), a learned gate that says
which response tokens count, and a response-only linear term. The score of a response is
`scale * (gated mean support) + pooled(response)`.

The encoder runs in two parts so that training can freeze the lowest `frozen` layers and compute
them once per distinct input (`bottom`), then train the top layers and the head on every step
(`top`); the embeddings are always frozen. `frozen = layers` trains the head alone. Full scoring
runs both parts in one go.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def content_mask(mask: torch.Tensor) -> torch.Tensor:
    """Attention mask without the first ([CLS]) and the last real ([SEP]) position of each row."""
    out = mask.clone().bool()
    out[:, 0] = False
    out[torch.arange(mask.shape[0]), mask.sum(1) - 1] = False
    return out


class MaxSimNet(nn.Module):
    def __init__(self, encoder: Any, scale: float, frozen: int = 0) -> None:
        super().__init__()
        self.encoder = encoder
        width = encoder.config.hidden_size
        self.frozen = max(0, min(frozen, len(encoder.encoder.layer)))
        self.proj = nn.Linear(width, width, bias=False)
        nn.init.eye_(self.proj.weight)
        self.gate = nn.Linear(width, 1)
        nn.init.zeros_(self.gate.weight)
        nn.init.zeros_(self.gate.bias)
        self.pooled = nn.Linear(width, 1)
        nn.init.zeros_(self.pooled.weight)
        nn.init.zeros_(self.pooled.bias)
        self.scale = nn.Parameter(torch.tensor(float(scale)))
        for p in self.bottom_parameters():
            p.requires_grad = False

    def bottom_parameters(self) -> list[nn.Parameter]:
        # The embeddings are always frozen: training reads the bottom's output from a cache.
        params = list(self.encoder.embeddings.parameters())
        for layer in self.encoder.encoder.layer[: self.frozen]:
            params.extend(layer.parameters())
        return params

    def _mask4(self, hidden: torch.Tensor, mask: torch.Tensor) -> Any:
        from transformers.masking_utils import create_bidirectional_mask

        return create_bidirectional_mask(config=self.encoder.config, inputs_embeds=hidden, attention_mask=mask)

    def bottom(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Hidden states after the embeddings and the frozen layers."""
        hidden = self.encoder.embeddings(input_ids=ids)
        mask4 = self._mask4(hidden, mask)
        for layer in self.encoder.encoder.layer[: self.frozen]:
            hidden = layer(hidden, mask4)
        return hidden

    def top(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Hidden states after the trained layers, from the output of `bottom`."""
        mask4 = self._mask4(hidden, mask)
        for layer in self.encoder.encoder.layer[self.frozen :]:
            hidden = layer(hidden, mask4)
        return hidden

    def head(self, hr: torch.Tensor, rmask: torch.Tensor, he: torch.Tensor, emask: torch.Tensor) -> torch.Tensor:
        """Scores from the final hidden states of the responses and of their evidence."""
        q = nn.functional.normalize(self.proj(hr), dim=-1)
        e = nn.functional.normalize(self.proj(he), dim=-1)
        sim = torch.einsum("bid,bjd->bij", q, e).masked_fill(~content_mask(emask).unsqueeze(1), -2.0)
        support = sim.max(dim=-1).values
        weight = nn.functional.softplus(self.gate(hr).squeeze(-1) + 0.5413) * content_mask(rmask).float()
        supported = (weight * support).sum(1) / weight.sum(1).clamp_min(1e-6)
        m = rmask.unsqueeze(-1).float()
        pooled = (hr * m).sum(1) / m.sum(1)
        return self.scale * supported + self.pooled(pooled).squeeze(-1)

    def score_states(self, states: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        """Scores from (response, evidence) outputs of `bottom`, unpadded, one pair of tensors each."""
        hr, rmask = pad_hidden([s[0] for s in states])
        he, emask = pad_hidden([s[1] for s in states])
        return self.head(self.top(hr, rmask), rmask, self.top(he, emask), emask)

    def forward(self, resp: tuple[torch.Tensor, torch.Tensor], evid: tuple[torch.Tensor, torch.Tensor]) -> Any:
        hr = self.top(self.bottom(*resp), resp[1])
        he = self.top(self.bottom(*evid), evid[1])
        return self.head(hr, resp[1], he, evid[1])


def pad_hidden(states: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded hidden states [batch, length, width] and their attention mask."""
    width = max(s.shape[0] for s in states)
    out = torch.zeros(len(states), width, states[0].shape[1], dtype=states[0].dtype)
    mask = torch.zeros(len(states), width, dtype=torch.long)
    for i, s in enumerate(states):
        out[i, : s.shape[0]] = s
        mask[i, : s.shape[0]] = 1
    return out, mask
