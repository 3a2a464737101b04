"""Each chat row's completion loss computed alone, and what it would be if the rows were laid end to end WITHOUT
restarting the positions and the attention (every row attending to the ones before it): the reference for checking
that padding-free batches keep their rows apart, and the counter-example of what mixing does.

Job: {"model": folder, "rows": [{"messages": [...], "answer": str}]}
Answer: {"alone": [{"lossSum", "labelTokens"}], "mixed": [{"lossSum", "labelTokens"}]}
"""

import torch

from _job import answer, chat_completion_ids, load_model, read_job


def loss_sum(model, ids: list, labels: list) -> tuple[float, int]:
    logits = model(input_ids=torch.tensor([ids])).logits[0, :-1].double()
    target = torch.tensor(labels[1:])
    keep = target != -100
    return float(torch.nn.functional.cross_entropy(logits[keep], target[keep], reduction="sum")), int(keep.sum())


job = read_job()
tok, model = load_model(job["model"])
rows = [chat_completion_ids(tok, r["messages"], r["answer"])[1:] for r in job["rows"]]
with torch.no_grad():
    alone = [loss_sum(model, ids, labels) for ids, labels in rows]
    # One sequence, positions 0…n−1 throughout, causal attention over everything before: row k sees rows < k.
    all_ids = [i for ids, _ in rows for i in ids]
    mixed = []
    for k, (ids, labels) in enumerate(rows):
        start = sum(len(x) for x, _ in rows[:k])
        masked = [-100] * start + labels + [-100] * (len(all_ids) - start - len(ids))
        mixed.append(loss_sum(model, all_ids, masked))
answer({"alone": [{"lossSum": s, "labelTokens": n} for s, n in alone],
        "mixed": [{"lossSum": s, "labelTokens": n} for s, n in mixed]})
